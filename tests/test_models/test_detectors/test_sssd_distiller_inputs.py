# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""SSSDDistiller on bad inputs and bad configs: clear errors at build time
or before the optimizer step, bounded memory with many objects."""
import math
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()

RETINANET = 'retinanet/retinanet_r50_fpn_1x_coco.py'
NUM_CLASSES = 4


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES),
        **kwargs))


def packed(num_items=(3, 2)):
    data = demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]],
                          num_items=list(num_items), num_classes=NUM_CLASSES)
    for i, sample in enumerate(data['data_samples']):
        sample.set_metainfo(dict(img_path=f'img_{i}.jpg'))
    return data


def snapshot(model):
    """The weights (BN statistics are updated by any forward pass)."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def unchanged(model, before):
    return all(
        torch.allclose(v, before[k], rtol=0, atol=0, equal_nan=True)
        for k, v in model.named_parameters())


def train_step(model, data):
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    return model.train_step(data, optim)


@pytest.fixture(autouse=True)
def at_iteration_41():
    MessageHub.get_current_instance().update_info('iter', 40)


@pytest.mark.parametrize('value', [math.nan, math.inf, -math.inf])
def test_non_finite_box_is_an_error_naming_the_image(value):
    model = build()
    data = packed()
    data['data_samples'][1].gt_instances.bboxes[0, 2] = value
    before = snapshot(model)
    with pytest.raises(ValueError, match=r'non-finite boxes .* img_1\.jpg '
                       r'at iteration 41'):
        train_step(model, data)
    assert unchanged(model, before)


@pytest.mark.parametrize('label', [-1, NUM_CLASSES])
def test_label_out_of_range_is_an_error(label):
    model = build()
    data = packed()
    data['data_samples'][0].gt_instances.labels[1] = label
    with pytest.raises(ValueError, match=rf'outside \[0, {NUM_CLASSES}\) '
                       r'in img_0\.jpg'):
        train_step(model, data)


def test_non_finite_loss_stops_before_the_weights_change():
    model = build()
    model.student.bbox_head.retina_cls.bias.data[0] = math.nan
    before = snapshot(model)
    with pytest.raises(FloatingPointError) as error:
        train_step(model, packed())
    message = str(error.value)
    assert "'loss_cls'" in message and 'iteration 41' in message
    assert 'FPN maps are finite' in message
    assert unchanged(model, before)


def test_non_finite_features_are_reported():
    model = build()
    data = packed()
    data['inputs'][0] = data['inputs'][0].float()
    data['inputs'][0][0, 0, 0] = math.inf
    data['inputs'][1] = data['inputs'][1].float()
    with pytest.raises(FloatingPointError, match='NOT finite'):
        train_step(model, data)


@pytest.mark.parametrize('num_items', [(0, 0), (0, 3)])
def test_batches_without_objects_train(num_items):
    model = build()
    before = snapshot(model)
    losses = train_step(model, packed(num_items))
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_bbox'] == 0 or num_items != (0, 0)
    assert not unchanged(model, before)


@pytest.mark.parametrize('box', [[10., 10., 10., 30.], [30., 20., 25., 15.]])
def test_boxes_without_area_are_an_error(box):
    # The box coders take log(w): a NaN loss without this check.
    model = build()
    data = packed()
    data['data_samples'][0].gt_instances.bboxes[1] = torch.tensor(box)
    with pytest.raises(ValueError, match='zero or negative width/height'):
        train_step(model, data)


def test_boxes_outside_and_smaller_than_a_cell_train():
    model = build()
    data = packed((3, 1))
    boxes = data['data_samples'][0].gt_instances.bboxes
    boxes[0] = torch.tensor([10., 10., 10.5, 10.5])  # under one cell
    boxes[1] = torch.tensor([-50., -40., -5., -1.])  # outside the image
    boxes[2] = torch.tensor([120., 60., 400., 300.])  # partly outside
    losses = train_step(model, data)
    assert all(torch.isfinite(v) for v in losses.values())


def peak_mb(num_objects, kind):
    script = osp.join(osp.dirname(__file__), 'peak_memory.py')
    out = subprocess.run(
        [sys.executable, script, str(num_objects), kind], check=True,
        capture_output=True, text=True, timeout=300,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1'))
    return float(out.stdout.split()[-1])


def test_memory_with_1000_objects_per_image_stays_bounded():
    # Peak RSS of two train steps on two 256x256 images. The teacher's
    # share of the growth from 10 to 1000 objects per image is what SSSD
    # adds to the detector's own (anchor assignment): measured 64 MB
    # (plain RetinaNet +408 MB, SSSD +472 MB) on x86-64.
    plain = peak_mb(1000, 'plain') - peak_mb(10, 'plain')
    sssd = peak_mb(1000, 'sssd') - peak_mb(10, 'sssd')
    assert sssd - plain < 150, (plain, sssd)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(teacher=dict(type='LabelEncoderTeacher', num_levels=3)),
     ValueError, 'teacher.num_levels=3'),
    (dict(distill_loss=dict(type='JSDistanceLoss', temperature=2.0)),
     TypeError, 'temperature'),
    (dict(distill_loss=dict(type='JSDistanceLoss', tau=0)), ValueError,
     'tau'),
    (dict(distill_loss=dict(type='NoSuchLoss')), KeyError, 'NoSuchLoss'),
    (dict(distill_warmup_iters=10), TypeError, 'distill_warmup_iters'),
])
def test_misconfiguration_fails_at_build(kwargs, error, words):
    with pytest.raises(error, match=words):
        build(**kwargs)
