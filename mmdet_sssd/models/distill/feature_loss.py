# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The feature distillation term: ``loss(norm(adapter(S_p)), norm(sg(T_p)))``
combined over the levels p."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor


def build_adapter(cfg: Optional[dict], in_channels: int,
                  out_channels: int) -> Optional[nn.Sequential]:
    """``num_convs`` convs of ``kernel_size`` (ReLU between), or None."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    num_convs = cfg.pop('num_convs', 3)
    k = cfg.pop('kernel_size', 1)
    if cfg:
        raise ValueError(f'SSSDDistiller: unknown adapter options '
                         f'{sorted(cfg)}; use num_convs and kernel_size')
    return nn.Sequential(*[
        ConvModule(in_channels if i == 0 else out_channels, out_channels, k,
                   padding=k // 2,
                   act_cfg=dict(type='ReLU') if i < num_convs - 1 else None)
        for i in range(num_convs)
    ])


def instance_norm(feat: Tensor) -> Tensor:
    """Non-affine instance norm; unlike ``F.instance_norm`` it accepts 1x1
    maps (P7 of small images), which become 0."""
    var, mean = torch.var_mean(feat, dim=(2, 3), keepdim=True, correction=0)
    return (feat - mean) * torch.rsqrt(var + 1e-5)


def feature_loss(loss: nn.Module, adapter: Optional[nn.Module],
                 student: Sequence[Tensor], teacher: Sequence[Tensor],
                 level_weights: str = 'uniform') -> Tensor:
    """The levels' losses between the instance-normalised adapted student
    maps and teacher maps (P tensors (N, C, H_p, W_p) each; the teacher's
    detached), averaged (``'uniform'``) or weighted by their number of
    elements (``'size'``: one loss over all levels' elements)."""
    values = []
    for s, t in zip(student, teacher):
        s, t = (adapter(s) if adapter is not None else s), t.detach()
        values.append(loss(instance_norm(s), instance_norm(t)))
    values = torch.stack(values)
    if level_weights == 'uniform':
        return values.mean()
    sizes = values.new_tensor([t.numel() for t in teacher])
    return (values * sizes).sum() / sizes.sum()
