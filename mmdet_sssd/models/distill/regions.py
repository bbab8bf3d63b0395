# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Where the feature pull acts (``SSSDDistiller(distill_region=...)``):
everywhere (``'all'``, LGD and SSSD) or only on the cells of the FPN maps
that the ground-truth boxes cover (``'boxes'``, the object regions that
fine-grained feature imitation distils). The weights that restrict a
feature loss to them are :func:`.feature_loss.region_weight`."""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmdet.structures import SampleList
from torch import Tensor

from ..teachers.box_grid import boxes_to_cells, infer_strides, paint_boxes
from ..teachers.label_descriptors import gt_boxes
from .feature_loss import per_location

REGIONS = ('all', 'boxes')


def check_region(region: str, feat_losses: Sequence[nn.Module]) -> None:
    """Build-time check: ``region`` is known and, for ``'boxes'``, every
    feature loss has one value per map location to weight."""
    if region not in REGIONS:
        raise ValueError(f"SSSDDistiller: distill_region must be 'all' or "
                         f"'boxes', got {region!r}")
    if region == 'all':
        return
    if not feat_losses:
        raise ValueError("SSSDDistiller: distill_region='boxes' restricts "
                         "the feature loss; give a distill_loss")
    for loss in feat_losses:
        if per_location(loss) is None:
            raise ValueError(
                f"SSSDDistiller: distill_region='boxes' weights each map "
                f"location, which {type(loss).__name__} "
                f"{_options(loss)}does not have; use "
                f"dict(type='JSDistanceLoss', axis='channel') (one "
                f"distribution per location) or dict(type='MSELoss')")


def _options(loss: nn.Module) -> str:
    axis = getattr(loss, 'axis', None)
    return f'(axis={axis!r}) ' if axis else ''


def box_cell_masks(samples: SampleList, feats: Sequence[Tensor],
                   strides: Optional[Sequence[Tuple[float, float]]]
                   ) -> List[Tensor]:
    """The cells each level's ground-truth boxes cover, as in the label
    teacher (boxes clamped to their image, :func:`boxes_to_cells`: at
    least one cell a box).

    Args:
        samples (list[DetDataSample]): The batch, boxes in input pixels
            (and the ``img_shape`` metainfo).
        feats (Sequence[Tensor]): P maps (N, C, H_p, W_p).
        strides (Sequence, optional): ``(sx, sy)`` of each level (the
            head's priors); None infers them from the sizes.

    Returns:
        list[Tensor]: P float masks (N, H_p, W_p), 1 inside a box, else 0.
    """
    num_imgs, device = feats[0].size(0), feats[0].device
    if strides is None:
        strides = infer_strides([f.shape[-2:] for f in feats],
                                samples[0].batch_input_shape)
    boxes, _, img_ids = gt_boxes(samples, device)
    masks = []
    for feat, stride in zip(feats, strides):
        size = tuple(feat.shape[-2:])
        if len(boxes) == 0:
            masks.append(feat.new_zeros(num_imgs, *size))
            continue
        cells = boxes_to_cells(boxes, size, stride)
        painted = paint_boxes(boxes.new_ones(len(boxes), 1), img_ids, cells,
                              num_imgs, size)
        masks.append((painted[:, 0] > 0.5).to(feat.dtype))
    return masks
