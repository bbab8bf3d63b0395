# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Pseudo-labels matched to the true boxes: IoU, greedy matching by score,
precision and recall."""
import json

import pytest

from mmdet_sssd.benchmarking import box_iou, count_matches, pseudo_quality


def box(x, y, w, h, cls=1, score=None, image=1):
    return dict(image_id=image, bbox=[x, y, w, h], category_id=cls,
                score=score)


def test_box_iou_hand_computed():
    assert box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert box_iou([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert box_iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0


def test_best_scored_box_matches_first_and_a_true_box_once():
    truth = [box(0, 0, 10, 10)]
    # both overlap the one true box; the better scored takes it
    boxes = [box(1, 0, 10, 10, score=0.3), box(0, 0, 10, 10, score=0.9)]
    assert count_matches(boxes, truth) == 1
    # another class, or IoU under 0.5, does not match
    assert count_matches([box(0, 0, 10, 10, cls=2, score=1.)], truth) == 0
    assert count_matches([box(6, 0, 10, 10, score=1.)], truth) == 0


def test_pseudo_quality_of_the_unlabeled_images(tmp_path):
    true = [box(0, 0, 10, 10, image=1), box(20, 20, 10, 10, image=1),
            box(0, 0, 10, 10, image=2)]  # image 2 is labeled: left out
    (tmp_path / 'train.json').write_text(json.dumps(dict(annotations=true)))
    (tmp_path / 'train_unlabeled.json').write_text(
        json.dumps(dict(images=[dict(id=1)])))
    pseudo = [box(0, 0, 10, 10, score=0.9), box(50, 50, 5, 5, score=0.8)]
    (tmp_path / 'p.json').write_text(json.dumps(dict(annotations=pseudo)))
    assert pseudo_quality(str(tmp_path / 'p.json'), str(tmp_path), 0.5) == \
        dict(score_thr=0.5, boxes=2, true_boxes=2, precision=0.5,
             recall=0.5)
