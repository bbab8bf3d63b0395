# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Box geometry on FPN grids: which cells of a level a box covers, the
mean of a map inside each box, and painting one vector per box onto a map.
Each costs O(map + boxes), whatever the boxes' sizes."""
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor


def pair_stride(stride) -> Tuple[float, float]:
    """A level's stride as ``(sx, sy)`` (mmdet prior generators give
    ``(w, h)`` pairs)."""
    if isinstance(stride, (int, float)):
        return float(stride), float(stride)
    return float(stride[0]), float(stride[1])


def infer_strides(feat_sizes: Sequence[Tuple[int, int]],
                  input_size: Tuple[int, int]) -> List[Tuple[float, float]]:
    """Strides of FPN levels read from their sizes, for when the head's are
    not given: for each level, the smallest power of two above the previous
    level's stride whose ``ceil(input / stride)`` is the level's size (P7 of
    an 800x1344 input is 7x11: stride 128, not 800/7), else the power of two
    nearest to ``input / size``.

    Args:
        feat_sizes (Sequence[tuple[int]]): (h, w) of each level, finest
            first.
        input_size (tuple[int]): (H, W) of the padded batch input.

    Returns:
        list[tuple[float]]: ``(sx, sy)`` of each level.
    """
    H, W = input_size
    strides, previous = [], 0
    for h, w in feat_sizes:
        fits = [2**k for k in range(13) if 2**k > previous
                and math.ceil(H / 2**k) == h and math.ceil(W / 2**k) == w]
        stride = fits[0] if fits else 2**round(
            math.log2(max(math.sqrt(H * W / (h * w)), 1.)))
        strides.append((float(stride), float(stride)))
        previous = stride
    return strides


def boxes_to_cells(boxes: Tensor, feat_size: Tuple[int, int],
                   stride) -> Tensor:
    """Map boxes in input pixels to half-open cell ranges of a feature map.

    Cell ``j`` of a level of stride ``s`` spans ``[j s, (j + 1) s)`` of the
    input, where the head's priors of that level sit; a box gets the cells
    whose span overlaps it. Every box covers at least one cell, also when
    it has zero area, is smaller than a cell or lies outside the map (it
    is then moved to the nearest border cell).

    Args:
        boxes (Tensor): (T, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        feat_size (tuple[int]): (h, w) of the feature map.
        stride (int | tuple): The level's stride, ``s`` or ``(sx, sy)``.

    Returns:
        Tensor: (T, 4) long ``x1, y1, x2, y2`` with ``0 <= x1 < x2 <= w``.
    """
    h, w = feat_size
    sx, sy = pair_stride(stride)
    scale = boxes.new_tensor([1 / sx, 1 / sy] * 2)
    limit = boxes.new_tensor([w, h, w, h])
    cells = boxes * scale
    lo = cells[:, :2].floor().clamp(min=0)
    lo = torch.minimum(lo, limit[:2] - 1)
    hi = torch.maximum(cells[:, 2:].ceil(), lo + 1)
    hi = torch.minimum(hi, limit[2:])
    return torch.cat([lo, hi], dim=1).long()


def box_mean_pool(feat: Tensor, img_ids: Tensor, cells: Tensor) -> Tensor:
    """Mean of ``feat`` inside each box, from an integral image.

    Costs O(N*C*h*w + T*C), whatever the number and size of the boxes.

    Args:
        feat (Tensor): (N, C, h, w) feature map.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.

    Returns:
        Tensor: (T, C) box means.
    """
    # fp64 integral: a fp32 running sum over a large map loses the small
    # boxes' digits.
    integral = feat.double().cumsum(2).cumsum(3)
    integral = nn.functional.pad(integral, (1, 0, 1, 0))
    x1, y1, x2, y2 = cells.unbind(1)
    box_sum = (integral[img_ids, :, y2, x2] - integral[img_ids, :, y1, x2] -
               integral[img_ids, :, y2, x1] + integral[img_ids, :, y1, x1])
    area = ((x2 - x1) * (y2 - y1)).unsqueeze(1)
    return (box_sum / area).to(feat.dtype)


def paint_boxes(values: Tensor, img_ids: Tensor, cells: Tensor,
                num_imgs: int, feat_size: Tuple[int, int]) -> Tensor:
    """Paint each box's vector onto its cells; overlaps add up, background 0.

    Uses a 2-D difference array and two cumulative sums, so the cost does not
    grow with the box area.

    Args:
        values (Tensor): (T, C) one vector per box.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.
        num_imgs (int): N.
        feat_size (tuple[int]): (h, w).

    Returns:
        Tensor: (N, C, h, w) painted map.
    """
    h, w = feat_size
    diff = values.new_zeros(num_imgs, h + 1, w + 1, values.size(1))
    x1, y1, x2, y2 = cells.unbind(1)
    ids = torch.cat([img_ids] * 4)
    ys = torch.cat([y1, y1, y2, y2])
    xs = torch.cat([x1, x2, x1, x2])
    signed = torch.cat([values, -values, -values, values])
    diff = diff.index_put((ids, ys, xs), signed, accumulate=True)
    painted = diff.cumsum(1).cumsum(2)[:, :h, :w]
    return painted.permute(0, 3, 1, 2).contiguous()


def paint_box_positions(boxes: Tensor, img_ids: Tensor, cells: Tensor,
                        num_imgs: int, feat_size: Tuple[int, int],
                        stride) -> Tensor:
    """Paint each cell's position inside its box: ``u, v`` in about [-1, 1],
    0 at the box centre; background 0, overlaps add up.

    ``u = (x - cx) / (w / 2)`` is affine in the cell centre ``x``, so it is
    ``x * a - b`` with ``a = 1 / (w/2)`` and ``b = cx / (w/2)`` painted by
    :func:`paint_boxes`: the cost does not grow with the box area either.
    Half-sizes are at least half a cell, so tiny boxes stay bounded.

    Args:
        boxes (Tensor): (T, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.
        num_imgs (int): N.
        feat_size (tuple[int]): (h, w).
        stride (int | tuple): The level's stride (:func:`boxes_to_cells`).

    Returns:
        Tensor: (N, 2, h, w) painted ``u, v``.
    """
    centre, sides = _in_strides(boxes, stride)
    half = (sides / 2).clamp(min=0.5)
    return _paint_affine(1 / half, centre / half, img_ids, cells, num_imgs,
                         feat_size, shift=.5)


def paint_box_geometry(boxes: Tensor, img_ids: Tensor, cells: Tensor,
                       num_imgs: int, feat_size: Tuple[int, int],
                       stride) -> Tensor:
    """Paint each box's geometry in the level's strides, seen from each
    cell's prior: ``(x - cx) / sx``, ``(y - cy) / sy`` (x, y the prior's
    centre, at ``j * stride`` as mmdet's anchors of cell ``j``), ``log(w /
    sx)`` and ``log(h / sy)``; background 0, overlaps add up.

    A dense head's box targets are these up to a per-level constant
    (RetinaNet's deltas: the offsets and log-sizes over its anchor's side),
    so the maps carry them linearly; :func:`paint_box_positions`'s ``u, v``
    are relative to the box and say nothing of its size in cells. Sides
    are at least 1/8 of a stride, so tiny boxes stay bounded.

    Args:
        boxes (Tensor): (T, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.
        num_imgs (int): N.
        feat_size (tuple[int]): (h, w).
        stride (int | tuple): The level's stride (:func:`boxes_to_cells`).

    Returns:
        Tensor: (N, 4, h, w) painted offsets and log-sides.
    """
    centre, sides = _in_strides(boxes, stride)
    return _paint_affine(torch.ones_like(centre), centre, img_ids, cells,
                         num_imgs, feat_size, shift=0.,
                         extra=sides.clamp(min=1 / 8).log())


def _in_strides(boxes: Tensor, stride) -> Tuple[Tensor, Tensor]:
    """(T, 2) centres and (T, 2) sides of (T, 4) boxes, in the level's
    strides."""
    sx, sy = pair_stride(stride)
    b = boxes * boxes.new_tensor([1 / sx, 1 / sy] * 2)
    return (b[:, :2] + b[:, 2:]) / 2, b[:, 2:] - b[:, :2]


def _paint_affine(slope: Tensor, offset: Tensor, img_ids: Tensor,
                  cells: Tensor, num_imgs: int, feat_size: Tuple[int, int],
                  shift: float, extra: Optional[Tensor] = None) -> Tensor:
    """Paint, per axis, ``slope * (j + shift) - offset`` of each box on its
    cells ``j`` (overlaps add up, background 0), then ``extra`` (T, E) as
    it is: (N, 2 + E, h, w). Affine in ``j``, so two painted coefficients
    (:func:`paint_boxes`) give it at a cost that does not grow with the
    box area."""
    values = [slope, offset] + ([] if extra is None else [extra])
    coef = paint_boxes(torch.cat(values, dim=1), img_ids, cells, num_imgs,
                       feat_size)  # (N, 4 + E, h, w)
    h, w = feat_size
    xs = torch.arange(w, device=coef.device, dtype=coef.dtype) + shift
    ys = torch.arange(h, device=coef.device, dtype=coef.dtype) + shift
    u = coef[:, 0] * xs[None, None, :] - coef[:, 2]
    v = coef[:, 1] * ys[None, :, None] - coef[:, 3]
    return torch.cat([u[:, None], v[:, None], coef[:, 4:]], dim=1)
