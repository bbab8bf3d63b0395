# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Weight averaging for every arm of a paired job alike: each config
trained with mmengine's ``EMAHook`` (as mmdet's RTMDet and YOLOX train),
and both weights of one run scored, so that the averaged and the raw final
weights are compared on the same training.

``EMAHook`` keeps its averaged copy beside the model and draws no random
numbers, so the raw weights of a run with it are those of the same run
without it; its checkpoints hold the averaged weights in ``state_dict`` and
the raw ones in ``ema_state_dict`` (keys ``module.*``)."""
import os
import os.path as osp

import torch

from mmdet_sssd.utils.checkpoint import load_from_local_safely


def ema_hook(momentum: float) -> dict:
    """mmengine's ``EMAHook`` with a plain exponential average of
    parameters and buffers: each iteration ``avg = (1 - momentum) * avg +
    momentum * weights``, an average over about ``1 / momentum``
    iterations."""
    if not 0 < momentum < 1:
        raise ValueError(f'EMA momentum must be in (0, 1), got {momentum}')
    return dict(type='EMAHook', ema_type='ExponentialMovingAverage',
                momentum=momentum, update_buffers=True, priority=49)


def ema_config(config: str, out_dir: str, momentum: float) -> str:
    """Writes ``<out_dir>/<name of config>``: ``config`` with
    :func:`ema_hook` appended to its ``custom_hooks`` (mmengine merges a
    list whole, so the hook cannot be added with ``--cfg-options``).
    Returns its path."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, osp.basename(config))
    with open(path, 'w') as f:
        f.write(f"# {config} with every weight averaged (EMAHook); written "
                f"by mmdet_sssd.benchmarking\n"
                f"_base_ = {osp.abspath(config)!r}\n"
                f"custom_hooks = [*_base_.get('custom_hooks', []), "
                f"{ema_hook(momentum)!r}]\n")
    return path


def raw_weights(checkpoint: str) -> str:
    """Writes ``<checkpoint>.raw.pth``: the checkpoint's raw (not
    averaged) weights as its ``state_dict``, for scoring. With or without
    ``EMAHook`` in the config it scores the raw weights: the hook, not
    resuming, loads both of its copies from this ``state_dict`` (checked:
    the raw weights of a run score the AP of the same run without the
    hook). Returns its path.

    Raises:
        KeyError: The checkpoint was not saved by ``EMAHook``.
    """
    ckpt = load_from_local_safely(checkpoint, map_location='cpu')
    if 'ema_state_dict' not in ckpt:
        raise KeyError(f'{checkpoint}: no ema_state_dict; it was not '
                       f'trained with EMAHook')
    state = {k[len('module.'):]: v for k, v in ckpt['ema_state_dict'].items()
             if k.startswith('module.')}
    path = osp.splitext(checkpoint)[0] + '.raw.pth'
    torch.save(dict(meta=ckpt.get('meta', {}), state_dict=state), path)
    return path
