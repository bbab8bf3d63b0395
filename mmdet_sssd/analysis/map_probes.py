# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Does a trained detector's FPN carry each object's class, per level and
COCO size class? For each GT object, the mean of each level's maps inside
its box and their value at its centre's cell (the neck's output, and the
classification branch's tower just before its last conv where the head
has one), then a linear probe
(:func:`linear_probe_accuracy`) of the class per level, fit on the
objects of one size class of some images and scored on those of others;
for ``tools/analysis_tools/probe_detector_maps.py``."""
from typing import Dict, List

import numpy as np
import torch

from ..models.teachers.box_grid import (box_mean_pool, boxes_to_cells,
                                        infer_strides)
from .teacher_probes import linear_probe_accuracy, preprocessed_batches

# what is probed: each box's mean of the neck's maps and of the
# classification tower's, and the cell at its centre of each
MAPS = ('neck', 'cls_tower', 'neck_centre', 'cls_tower_centre')
# COCO's size classes by box area in the original image's pixels
SIZES = (('small', 0, 32**2), ('medium', 32**2, 96**2),
         ('large', 96**2, float('inf')))


def size_class(areas: np.ndarray) -> np.ndarray:
    """The COCO size class (0 small, 1 medium, 2 large) of each area."""
    return np.searchsorted([hi for _, _, hi in SIZES[:-1]], areas,
                           side='right')


def centre_cells(feat: torch.Tensor, img_ids: torch.Tensor,
                 boxes: torch.Tensor, stride) -> torch.Tensor:
    """(T, C) ``feat`` (N, C, H, W) at the cell whose prior lies nearest
    each box's centre (boxes (T, 4) in input pixels; ``stride`` as
    ``(sx, sy)``; mmdet's anchors of cell ``j`` centred at ``j * stride``):
    the features a dense head's positive priors of the object sit on."""
    h, w = feat.shape[-2:]
    x = ((boxes[:, 0] + boxes[:, 2]) / 2 / stride[0] + 0.5).floor().long()
    y = ((boxes[:, 1] + boxes[:, 3]) / 2 / stride[1] + 0.5).floor().long()
    return feat[img_ids, :, y.clamp(0, h - 1), x.clamp(0, w - 1)]


def _cls_tower(head, feats: List[torch.Tensor]):
    """The classification branch before its last conv on each level
    (``cls_convs``, as RetinaNet, FCOS and ATSS heads have it), or None."""
    convs = getattr(head, 'cls_convs', None)
    if convs is None:
        return None
    out = []
    for x in feats:
        for conv in convs:
            x = conv(x)
        out.append(x)
    return out


@torch.no_grad()
def collect_map_probes(detector, dataset, num_imgs: int,
                       batch_size: int = 16) -> Dict:
    """Run a single-stage detector's backbone, neck and classification
    tower on the first ``num_imgs`` images of ``dataset`` (eval mode; its
    pipeline must load the GT in the input's coordinates) and gather, for
    each GT object (M in all):

    Returns:
        dict: ``labels`` (M, ) class ids; ``sizes`` (M, ) COCO size
        classes; ``neck`` and ``cls_tower`` (None without one): P arrays
        (M, C) of the maps' means in its box on each level, and
        ``neck_centre`` and ``cls_tower_centre`` at the cell of the prior
        nearest its centre;
        ``strides`` the P levels' strides.
    """
    detector.eval()
    out = dict(labels=[], sizes=[], **{key: [] for key in MAPS})
    head = getattr(detector, 'bbox_head', None)
    strides = []
    for data in preprocessed_batches(detector, dataset, num_imgs,
                                     batch_size):
        samples = data['data_samples']
        feats = detector.extract_feat(data['inputs'])
        boxes = [s.gt_instances.bboxes for s in samples]
        img_ids = torch.cat([torch.full((len(b), ), i, dtype=torch.long)
                             for i, b in enumerate(boxes)])
        if not len(img_ids):
            continue
        boxes = torch.cat(boxes)
        scale = torch.cat([
            boxes.new_tensor(s.metainfo.get('scale_factor', (1., 1.)))
            .prod().expand(len(s.gt_instances)) for s in samples])
        wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0)
        out['labels'].append(torch.cat(
            [s.gt_instances.labels for s in samples]))
        out['sizes'].append(torch.from_numpy(size_class(
            (wh.prod(1) / scale).numpy())))
        strides = infer_strides([f.shape[-2:] for f in feats],
                                data['inputs'].shape[-2:])
        cells = [boxes_to_cells(boxes, f.shape[-2:], s)
                 for f, s in zip(feats, strides)]
        tower = _cls_tower(head, feats) if head is not None else None
        for key, levels in (('neck', feats), ('cls_tower', tower)):
            if levels is not None:
                out[key].append([box_mean_pool(m, img_ids, c)
                                 for m, c in zip(levels, cells)])
                out[f'{key}_centre'].append([
                    centre_cells(m, img_ids, boxes, s)
                    for m, s in zip(levels, strides)])
    if not out['labels']:
        raise ValueError(f'collect_map_probes: no GT object in the first '
                         f'{num_imgs} images of the dataset; does its '
                         f'pipeline load the annotations (test_mode=False)?')
    result = {k: torch.cat(out[k]).numpy() for k in ('labels', 'sizes')}
    result['strides'] = [int(sx) for sx, _ in strides]
    for key in MAPS:
        result[key] = [torch.cat(level).numpy() for level in
                       zip(*out[key])] if out[key] else None
    return result


def map_probe_report(train: Dict, test: Dict,
                     min_objects: int = 20) -> Dict:
    """For each size class: its objects (train, test), the majority
    class's share among its test objects (chance) and, per level of each
    map set, the probe's test accuracy (None where either side has fewer
    than ``min_objects`` objects or one class)."""
    report = {}
    for index, (name, _, _) in enumerate(SIZES):
        fit, score = train['sizes'] == index, test['sizes'] == index
        row = dict(objects=[int(fit.sum()), int(score.sum())])
        usable = min(fit.sum(), score.sum()) >= min_objects and len(
            np.unique(train['labels'][fit])) > 1
        counts = np.bincount(test['labels'][score]) if score.any() else [0]
        row['chance'] = float(max(counts) / max(sum(counts), 1))
        for key in MAPS:
            if train[key] is None:
                continue
            row[key] = [linear_probe_accuracy(
                a[fit], train['labels'][fit], b[score],
                test['labels'][score]) if usable else None
                for a, b in zip(train[key], test[key])]
        report[name] = row
    return report
