# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The preamble of the tools that run a trained model offline
(``eval_teacher``, ``vis_teacher``, ``probe_teacher``,
``distill_grad_scale``, ``pseudo_label``): the config with the user's
options, mmdet's and the plugin's components registered, the model built
and its checkpoint loaded."""
import argparse
from typing import Optional, Tuple

import torch.nn as nn
from mmengine.config import Config, DictAction


def model_tool_parser(doc: str, checkpoint_required: bool = True
                      ) -> argparse.ArgumentParser:
    """The arguments of a tool that loads a model: ``config``,
    ``checkpoint`` (None where not required and not given) and
    ``--cfg-options`` (mmengine's ``key=value`` options); the tool adds
    its own. ``doc``'s first line describes the tool."""
    parser = argparse.ArgumentParser(description=doc.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs=None if checkpoint_required
                        else '?', default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='key=value options merged into the config')
    return parser


def load_config(path: str, cfg_options: Optional[dict] = None,
                teacher: bool = False) -> Config:
    """The config at ``path`` with ``cfg_options`` merged, after
    registering mmdet's and the plugin's components (mmdet's default
    scope).

    With ``teacher``: :func:`load_teacher_config` (an ``SSSDDistiller``
    with a label teacher, the val and test pipelines loading the GT before
    ``Resize``).

    Raises:
        SystemExit: With ``teacher``, the config has no label teacher (the
            message says so; a tool then ends with it).
    """
    from mmdet.utils import register_all_modules

    import mmdet_sssd  # noqa: F401  (registers the plugin's components)
    from .teacher_config import load_teacher_config
    register_all_modules()
    if teacher:
        try:
            return load_teacher_config(path, cfg_options)
        except ValueError as e:
            raise SystemExit(str(e)) from e
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_model(path: str, checkpoint: Optional[str] = None,
               cfg_options: Optional[dict] = None, teacher: bool = False,
               init_weights: bool = False) -> Tuple[Config, nn.Module, dict]:
    """:func:`load_config`, then the config's model built on the CPU with
    ``checkpoint`` loaded (mmdet_sssd's safe loader, docs/safety.md).

    Without a checkpoint the model keeps its fresh parameters, or with
    ``init_weights`` runs its ``init_cfg`` as the runner would (e.g. a
    pretrained backbone).

    Returns:
        tuple: The config, the model, and the loaded checkpoint's dict
        (``meta``...; empty without a checkpoint).
    """
    from mmdet.registry import MODELS
    from mmengine.runner import load_checkpoint
    cfg = load_config(path, cfg_options, teacher)
    model = MODELS.build(cfg.model)
    loaded = {}
    if checkpoint:
        loaded = load_checkpoint(model, checkpoint, map_location='cpu')
    elif init_weights:
        model.init_weights()
    return cfg, model, loaded
