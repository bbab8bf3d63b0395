# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The feature distillation term: ``loss(norm(adapter(S_p)), norm(sg(T_p)))``
combined over the levels p."""
from typing import Optional, Sequence, Tuple

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


def per_location(loss: nn.Module) -> Optional[str]:
    """How ``loss`` takes a weight per location: ``'location'`` for a
    weight (N, H, W) (``JSDistanceLoss(axis='channel')``), ``'element'``
    for one (N, C, H, W) (mmdet's ``MSELoss``); None if it has none."""
    name = type(loss).__name__
    if name == 'JSDistanceLoss' and loss.axis == 'channel':
        return 'location'
    if name == 'MSELoss':
        return 'element'
    return None


def region_weight(loss: nn.Module, mask: Tensor,
                  channels: int) -> Tuple[Tensor, Tensor]:
    """``weight`` and ``avg_factor`` that make ``loss`` the mean over the
    cells of ``mask`` (N, H, W): of the per-location distances, or of the
    elements of those cells. A level without a box cell weighs 0."""
    count = mask.sum()
    if per_location(loss) == 'location':
        return mask, count.clamp(min=1.0)
    weight = mask.unsqueeze(1).expand(-1, channels, -1, -1)
    return weight, (count * channels).clamp(min=1.0)


def feature_loss(loss: nn.Module, adapter: Optional[nn.Module],
                 student: Sequence[Tensor], teacher: Sequence[Tensor],
                 level_weights: str = 'uniform',
                 masks: Optional[Sequence[Tensor]] = None) -> Tensor:
    """The levels' losses between the instance-normalised adapted student
    maps and teacher maps (P tensors (N, C, H_p, W_p) each; the teacher's
    detached), averaged (``'uniform'``) or weighted by their number of
    elements (``'size'``: one loss over all levels' elements). With
    ``masks`` (P tensors (N, H_p, W_p)), each level's loss is the mean over
    the masked cells only (:func:`region_weight`); the instance norm still
    runs over the whole map."""
    values = []
    for lvl, (s, t) in enumerate(zip(student, teacher)):
        s, t = (adapter(s) if adapter is not None else s), t.detach()
        s, t = instance_norm(s), instance_norm(t)
        if masks is None:
            values.append(loss(s, t))
        else:
            weight, avg_factor = region_weight(loss, masks[lvl], s.size(1))
            values.append(loss(s, t, weight=weight, avg_factor=avg_factor))
    values = torch.stack(values)
    if level_weights == 'uniform':
        return values.mean()
    sizes = values.new_tensor([t.numel() for t in teacher])
    return (values * sizes).sum() / sizes.sum()
