# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""How good are pseudo-labels? Each image's pseudo-boxes matched to its
hidden true boxes (same class, IoU >= 0.5), as the digits benchmark
reports for SAD."""
import json
import os.path as osp
from typing import List, Sequence


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two COCO ``[x, y, w, h]`` boxes."""
    x, y, w, h = a
    tx, ty, tw, th = b
    iw = max(0.0, min(x + w, tx + tw) - max(x, tx))
    ih = max(0.0, min(y + h, ty + th) - max(y, ty))
    return iw * ih / (w * h + tw * th - iw * ih)


def count_matches(boxes: List[dict], truth: List[dict],
                  min_iou: float = 0.5) -> int:
    """Greedy matching by score: each pseudo-box (COCO annotation with a
    ``score``), best first, takes the free true box of its class it
    overlaps most, at IoU >= ``min_iou``; returns the number matched."""
    free = list(truth)
    hits = 0
    for box in sorted(boxes, key=lambda a: -a['score']):
        best, match = min_iou, None
        for t in free:
            if t['category_id'] != box['category_id']:
                continue
            iou = box_iou(box['bbox'], t['bbox'])
            if iou >= best:
                best, match = iou, t
        if match is not None:
            free.remove(match)
            hits += 1
    return hits


def pseudo_quality(pseudo_file: str, data_root: str,
                   score_thr: float) -> dict:
    """The pseudo-labels of ``pseudo_file`` against the true boxes
    (``train.json``) of the images of ``train_unlabeled.json`` in
    ``data_root``: the numbers of boxes, precision and recall."""
    with open(pseudo_file) as f:
        pseudo = json.load(f)
    with open(osp.join(data_root, 'train.json')) as f:
        true = json.load(f)
    with open(osp.join(data_root, 'train_unlabeled.json')) as f:
        unlabeled = {i['id'] for i in json.load(f)['images']}
    by_image = {}
    for a in true['annotations']:
        if a['image_id'] in unlabeled:
            by_image.setdefault(a['image_id'], []).append(a)
    hits = sum(
        count_matches([a for a in pseudo['annotations']
                       if a['image_id'] == image_id],
                      by_image.get(image_id, [])) for image_id in unlabeled)
    num_pseudo = len(pseudo['annotations'])
    num_true = sum(map(len, by_image.values()))
    return dict(score_thr=score_thr, boxes=num_pseudo, true_boxes=num_true,
                precision=round(hits / max(num_pseudo, 1), 3),
                recall=round(hits / max(num_true, 1), 3))
