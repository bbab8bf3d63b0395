# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmdet_sssd.analysis import box_error_summary, matched_box_errors


def test_matched_box_errors_a_hand_computed_case():
    gt = torch.tensor([[0., 0., 10., 10.],     # small, found twice
                       [100., 100., 140., 140.],  # medium, missed
                       [0., 0., 100., 200.]])  # large, found loosely
    pred = torch.tensor([
        [1., 0., 11., 10.],       # IoU 90/110 with gt 0, score 0.9
        [0., 0., 10., 10.],       # exact on gt 0, lower score: not taken
        [120., 120., 180., 180.],  # IoU 400/(1600+3600-400) with gt 1
        [0., 0., 120., 200.]])     # IoU 100*200/(120*200) with gt 2
    scores = torch.tensor([0.9, 0.5, 0.8, 0.3])
    out = matched_box_errors(pred, scores, gt)
    assert out['found'].tolist() == [True, False, True]
    # the top-scoring box at IoU >= 0.5, not the best-fitting one
    assert out['iou'][0] == pytest.approx(90 / 110, rel=1e-5)
    assert out['centre_error'][0] == pytest.approx((1 / 10 + 0) / 2)
    assert out['size_error'][0] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(out['iou'][1]) and np.isnan(out['size_error'][1])
    assert out['iou'][2] == pytest.approx(100 / 120, rel=1e-5)
    assert out['centre_error'][2] == pytest.approx((10 / 100 + 0) / 2)
    assert out['size_error'][2] == pytest.approx(math.log(1.2) / 2,
                                                 rel=1e-5)
    assert out['area'].tolist() == [100., 1600., 20000.]
    assert out['overlapping'].tolist() == [True, False, True]

    rows = {r['group']: r for r in box_error_summary([out])}
    assert rows['small']['objects'] == 1 and rows['small']['found'] == 1.0
    assert rows['medium']['found'] == 0.0 and rows['medium']['iou'] is None
    assert rows['large']['size_error'] == pytest.approx(math.log(1.2) / 2,
                                                        rel=1e-5)
    assert rows['all']['objects'] == 3
    assert rows['overlapping']['objects'] == 2
    assert rows['isolated']['found'] == 0.0
    assert rows['all']['found'] == pytest.approx(2 / 3)
    assert rows['all']['centre_error'] == pytest.approx(0.05)


def test_matched_box_errors_without_predictions_or_objects():
    none = matched_box_errors(torch.zeros(0, 4), torch.zeros(0),
                              torch.tensor([[0., 0., 4., 4.]]))
    assert none['found'].tolist() == [False]
    empty = matched_box_errors(torch.tensor([[0., 0., 4., 4.]]),
                               torch.ones(1), torch.zeros(0, 4))
    assert len(empty['found']) == 0
    # images without objects add nothing to the summary
    rows = box_error_summary([none, empty])
    assert [r['group'] for r in rows] == ['small', 'isolated', 'all']
