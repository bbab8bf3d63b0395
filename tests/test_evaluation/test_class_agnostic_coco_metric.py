"""ClassAgnosticCocoMetric against pycocotools run on class-merged files."""
import json

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import mmdet_sssd  # noqa: F401
from mmdet.registry import METRICS

CLASSES = ('a', 'b', 'c')


def _gt(tmp_path):
    rng = np.random.default_rng(0)
    images, anns = [], []
    for img_id in range(1, 7):
        images.append(dict(id=img_id, width=100, height=80,
                           file_name=f'{img_id}.jpg'))
        for _ in range(int(rng.integers(1, 5))):
            x, y = rng.uniform(0, 60), rng.uniform(0, 40)
            w, h = rng.uniform(8, 35), rng.uniform(8, 35)
            anns.append(dict(id=len(anns) + 1, image_id=img_id,
                             category_id=int(rng.integers(1, 4)) * 10,
                             bbox=[x, y, w, h], area=w * h, iscrowd=0))
    # ids 10, 20, 30: the merge must use the id of the first class
    cats = [dict(id=10 * (i + 1), name=n) for i, n in enumerate(CLASSES)]
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(dict(images=images, annotations=anns,
                                    categories=cats)))
    return path, anns


def _predictions(anns, copies_per_class=False):
    """Jittered GT boxes with a wrong class half the time, some misses and
    false positives; with ``copies_per_class`` each box once per class."""
    rng = np.random.default_rng(1)
    by_img = {}
    for a in anns:
        if rng.uniform() < 0.15:
            continue  # missed
        x, y, w, h = np.array(a['bbox']) + rng.normal(0, 2, 4)
        label = int(rng.integers(0, 3))
        score = float(rng.uniform(0.05, 1))
        labels = range(3) if copies_per_class else [label]
        for lab in labels:
            by_img.setdefault(a['image_id'], []).append(
                ([x, y, x + w, y + h], score, lab))
    for img_id in range(1, 7):  # false positives
        by_img.setdefault(img_id, []).append(
            ([5, 5, 30, 30], float(rng.uniform(0, 0.5)), 0))
    return by_img


def _samples(by_img):
    samples = []
    for img_id, preds in sorted(by_img.items()):
        boxes, scores, labels = zip(*preds)
        samples.append(dict(
            img_id=img_id, ori_shape=(80, 100),
            pred_instances=dict(bboxes=torch.tensor(boxes),
                                scores=torch.tensor(scores),
                                labels=torch.tensor(labels))))
    return samples


def _pycocotools_merged_ap(gt_path, by_img, tmp_path):
    """AP of pycocotools on a GT file and a result file whose categories
    are all the first class's."""
    gt = json.loads(gt_path.read_text())
    for a in gt['annotations']:
        a['category_id'] = 10
    merged = tmp_path / 'gt_merged.json'
    merged.write_text(json.dumps(gt))
    dets = [dict(image_id=img_id, category_id=10, score=s,
                 bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]])
            for img_id, preds in by_img.items() for b, s, _ in preds]
    coco = COCO(str(merged))
    ev = COCOeval(coco, coco.loadRes(dets), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats[0], ev.stats[1]


def _metric(gt_path, by_img, **kwargs):
    metric = METRICS.build(dict(type='ClassAgnosticCocoMetric',
                                ann_file=str(gt_path), **kwargs))
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, _samples(by_img))
    return metric.evaluate(len(by_img))


def test_equals_pycocotools_on_class_merged_files(tmp_path):
    gt_path, anns = _gt(tmp_path)
    by_img = _predictions(anns)
    ap, ap50 = _pycocotools_merged_ap(gt_path, by_img, tmp_path)
    got = _metric(gt_path, by_img, nms_iou_thr=None)
    assert got['coco_agnostic/bbox_mAP'] == pytest.approx(round(ap, 3))
    assert got['coco_agnostic/bbox_mAP_50'] == pytest.approx(round(ap50, 3))
    # the wrong classes cost the class-aware AP, not this one
    aware = METRICS.build(dict(type='CocoMetric', ann_file=str(gt_path)))
    aware.dataset_meta = dict(classes=CLASSES)
    aware.process({}, _samples(by_img))
    assert aware.evaluate(len(by_img))['coco/bbox_mAP'] < ap - 0.2
    # the GT file is not touched
    assert {a['category_id'] for a in json.loads(gt_path.read_text())[
        'annotations']} == {10, 20, 30}


def test_nms_counts_a_box_predicted_once_per_class_once(tmp_path):
    gt_path, anns = _gt(tmp_path)
    once = _metric(gt_path, _predictions(anns), nms_iou_thr=None)
    copies = _predictions(anns, copies_per_class=True)
    deduplicated = _metric(gt_path, copies)
    kept = _metric(gt_path, copies, nms_iou_thr=None)
    assert deduplicated['coco_agnostic/bbox_mAP'] == pytest.approx(
        once['coco_agnostic/bbox_mAP'])
    assert kept['coco_agnostic/bbox_mAP'] < once['coco_agnostic/bbox_mAP']


def test_only_bbox():
    with pytest.raises(ValueError, match="only metric='bbox'"):
        METRICS.build(dict(type='ClassAgnosticCocoMetric', metric='segm'))
