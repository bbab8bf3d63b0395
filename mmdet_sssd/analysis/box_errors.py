# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""How far a detector's boxes are from the objects it finds: per ground-truth
object, its top-scoring detection of any class at IoU >= 0.5, and that
box's centre and size errors, summarised per COCO size class. Separates
"finds the object" (recall at IoU 0.5) from "draws it tightly" (the errors
of what it found), which AP50 and AP75 mix."""
from typing import Dict, List

import numpy as np
import torch
from mmdet.structures.bbox import bbox_overlaps

from .map_probes import size_class

SIZE_NAMES = ('small', 'medium', 'large')


def matched_box_errors(pred_boxes: torch.Tensor, pred_scores: torch.Tensor,
                       gt_boxes: torch.Tensor, iou_thr: float = 0.5
                       ) -> Dict[str, np.ndarray]:
    """Each GT box's top-scoring prediction with IoU >= ``iou_thr``, class
    ignored, and its errors.

    Args:
        pred_boxes (Tensor): (P, 4) ``x1, y1, x2, y2``.
        pred_scores (Tensor): (P, ) scores.
        gt_boxes (Tensor): (G, 4), in the predictions' coordinates.
        iou_thr (float): The IoU a prediction needs to count as found.

    Returns:
        dict of (G, ) arrays: ``area`` of each GT box; ``overlapping``
        (bool: it intersects another GT box); ``found`` (bool);
        where found (NaN elsewhere): ``iou``, ``centre_error`` (the centre
        offset in units of the GT size, the mean of ``|dx| / w`` and
        ``|dy| / h``) and ``size_error`` (the mean of ``|log(w' / w)|`` and
        ``|log(h' / h)|``).
    """
    gt = gt_boxes.float().reshape(-1, 4)
    wh = (gt[:, 2:] - gt[:, :2]).clamp(min=1e-6)
    # painted label teachers add the vectors of overlapping boxes
    touching = bbox_overlaps(gt, gt) > 0
    touching.fill_diagonal_(False)
    out = dict(area=(wh[:, 0] * wh[:, 1]).numpy(),
               overlapping=touching.any(1).numpy(),
               found=np.zeros(len(gt), bool),
               **{k: np.full(len(gt), np.nan)
                  for k in ('iou', 'centre_error', 'size_error')})
    if not len(gt) or not len(pred_boxes):
        return out
    pred = pred_boxes.float().reshape(-1, 4)
    ious = bbox_overlaps(gt, pred)  # (G, P)
    # the top-scoring prediction among those at IoU >= iou_thr
    ranked = torch.where(ious >= iou_thr, pred_scores.float()[None],
                         torch.full_like(ious, -float('inf')))
    best = ranked.argmax(1)
    found = torch.isfinite(ranked.max(1).values)
    match = pred[best]
    match_wh = (match[:, 2:] - match[:, :2]).clamp(min=1e-6)
    centre = ((match[:, :2] + match[:, 2:]) - (gt[:, :2] + gt[:, 2:])) / 2
    errors = dict(iou=ious[torch.arange(len(gt)), best],
                  centre_error=(centre.abs() / wh).mean(1),
                  size_error=(match_wh / wh).log().abs().mean(1))
    out['found'] = found.numpy()
    for key, value in errors.items():
        out[key] = np.where(out['found'], value.numpy(), np.nan)
    return out


def box_error_summary(errors: List[Dict[str, np.ndarray]]) -> List[dict]:
    """One row per group of the GT objects of ``errors``
    (:func:`matched_box_errors` of each image): each COCO size class, the
    ``isolated`` and the ``overlapping`` objects, and ``all``; a group
    without objects has no row. Each row: ``group`` (its name),
    ``objects``, ``found`` (their fraction), and the medians over the
    found objects of ``iou``, ``centre_error`` and ``size_error`` (None if
    none was found)."""
    merged = {k: np.concatenate([e[k] for e in errors]) for k in errors[0]}
    sizes = size_class(merged['area'])
    rows = []
    groups = [(n, sizes == i) for i, n in enumerate(SIZE_NAMES)] + [
        ('isolated', ~merged['overlapping']),
        ('overlapping', merged['overlapping']),
        ('all', np.ones_like(sizes, bool))]
    for name, keep in groups:
        if not keep.any():
            continue
        found = keep & merged['found']
        row = dict(group=name, objects=int(keep.sum()),
                   found=float(found.sum() / keep.sum()))
        for key in ('iou', 'centre_error', 'size_error'):
            row[key] = float(np.median(merged[key][found])) \
                if found.any() else None
        rows.append(row)
    return rows
