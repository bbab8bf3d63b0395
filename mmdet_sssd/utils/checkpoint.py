# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Checkpoints: loading on torch >= 2.6, atomic writes, resuming.

torch 2.6 made ``torch.load(weights_only=True)`` the default; mmengine 0.10.7
does not pass ``weights_only=False`` for local files, so ``--resume``,
``load_from`` and testing a ``.pth`` written by mmengine itself (it pickles
``HistoryBuffer`` and other mmengine objects) fail. Importing ``mmdet_sssd``
re-registers mmengine's local-file loader with ``weights_only=False``.
Only load checkpoints you trust: unpickling can run code.

It also makes mmengine's writes of local files atomic
(:class:`AtomicLocalBackend`) and finds the checkpoint to resume from after a
crash (:func:`find_resumable_checkpoint`).
"""
import glob
import inspect
import logging
import os
import os.path as osp
import uuid
import zipfile
from pathlib import Path
from typing import Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from mmengine.utils import mkdir_or_exist


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


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, writing atomically.

    ``put``/``put_text`` write to a temporary file in the target folder,
    ``fsync`` it and ``os.replace`` it onto the target: a crash while a
    checkpoint is being written leaves the previous file (or none) under the
    final name, never a truncated one.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = osp.abspath(str(filepath))
        mkdir_or_exist(osp.dirname(filepath))
        # Same folder (os.replace is atomic within a file system); 'xb'
        # gives the file the user's umask, like a plain open().
        tmp = osp.join(
            osp.dirname(filepath),
            f'.{osp.basename(filepath)}.{os.getpid()}.{uuid.uuid4().hex}.tmp')
        try:
            with open(tmp, 'xb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def register_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's backend for local paths
    (checkpoints and other files mmengine writes through its file I/O)."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file (a zip archive whose
    central directory, written last, is present and lists ``data.pkl``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith('data.pkl')
                       for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from.

    mmengine follows ``work_dir/last_checkpoint``. If that file is missing,
    empty or names a checkpoint that is gone or incomplete (a crash while it
    was written by another tool), the newest complete ``*.pth`` of the work
    dir is returned instead, with a warning; None if there is none.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    if named is not None and is_complete_checkpoint(named):
        return named
    candidates = sorted(
        (p for p in glob.glob(osp.join(work_dir, '*.pth'))
         if is_complete_checkpoint(p)),
        key=osp.getmtime)
    found = candidates[-1] if candidates else None
    if named is not None or (found and osp.isfile(pointer)):
        print_log(
            f'{pointer} names {named!r}, which is missing or incomplete; '
            f'resuming from {found!r} (the newest complete checkpoint) '
            f'instead', logger='current', level=logging.WARNING)
    return found
