# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Loading of local checkpoints on torch >= 2.6.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7
does not pass ``weights_only=False`` for local files, so ``--resume``,
``load_from`` and testing a ``.pth`` written by mmengine itself (it pickles
``HistoryBuffer`` and other mmengine objects) fail. Importing ``mmdet_sssd``
re-registers mmengine's local-file loader with ``weights_only=False``.
Only load checkpoints you trust: unpickling can run code.
"""
import inspect
import os.path as osp

import torch
from mmengine.runner import CheckpointLoader


def load_trusted_local(filename: str, map_location=None) -> dict:
    """mmengine's ``load_from_local`` with full unpickling."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_trusted_local_loader() -> None:
    """Make mmengine's local checkpoint loading work on torch >= 2.6."""
    if 'weights_only' in inspect.signature(torch.load).parameters:
        CheckpointLoader.register_scheme(
            prefixes='', loader=load_trusted_local, force=True)
