# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
from collections import OrderedDict

from mmengine.config import Config

STUDENT_PREFIX = 'student.'


def student_state_dict(checkpoint: dict) -> OrderedDict:
    """The student's weights of an :class:`SSSDDistiller` checkpoint, with
    the keys of the plain detector (``student.backbone.x`` ->
    ``backbone.x``); teacher and adapter are dropped."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = OrderedDict((k[len(STUDENT_PREFIX):], v.detach().clone())
                          for k, v in state_dict.items()
                          if k.startswith(STUDENT_PREFIX))
    if not student:
        raise KeyError(
            f'no "{STUDENT_PREFIX}*" weights in the checkpoint (keys: '
            f'{list(state_dict)[:5]}...): is it an SSSDDistiller checkpoint?')
    return student


def student_config(cfg: Config) -> Config:
    """The distillation config with ``model`` replaced by the student's and
    the plugin's imports and hooks removed: a stock mmdet config."""
    if cfg.model.get('type') != 'SSSDDistiller':
        raise ValueError(f'expected model.type="SSSDDistiller", got '
                         f'{cfg.model.get("type")!r}')
    cfg = copy.deepcopy(cfg)
    cfg.model = cfg.model.detector
    cfg.pop('custom_imports', None)
    hooks = [h for h in cfg.get('custom_hooks', [])
             if not _is_plugin_hook(h.get('type'))]
    if hooks:
        cfg.custom_hooks = hooks
    else:
        cfg.pop('custom_hooks', None)
    return cfg


def _is_plugin_hook(hook_type) -> bool:
    """Whether a hook type is one of this plugin's (AdaptiveDistillCoefHook,
    EpochSeedHook, TrainDataCheckHook...), which stock mmdet lacks."""
    from mmdet.registry import HOOKS

    import mmdet_sssd  # noqa: F401  (registers them)
    if not isinstance(hook_type, str):
        hook_type = getattr(hook_type, '__name__', '')
    hook = HOOKS.get(hook_type)
    return hook is not None and hook.__module__.startswith('mmdet_sssd.')
