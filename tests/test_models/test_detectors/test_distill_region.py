# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""``distill_region='boxes'``: the cells the boxes cover (hand-computed),
the feature term restricted to them (float64 recomputation), and the
build-time checks."""
import pytest
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmengine.structures import InstanceData

from mmdet_sssd.models.distill.regions import box_cell_masks
from test_distill_term import build, capture, inputs, instance_norm, set_iter


def sample(boxes, pad=(64, 64), box_type=torch.tensor, img=None):
    s = DetDataSample(metainfo=dict(batch_input_shape=pad,
                                    img_shape=img or pad))
    s.gt_instances = InstanceData(
        bboxes=box_type(torch.tensor(boxes, dtype=torch.float32).reshape(
            -1, 4)), labels=torch.zeros(len(boxes), dtype=torch.long))
    return s


@pytest.mark.parametrize('box_type', [torch.tensor, HorizontalBoxes])
def test_box_cell_masks_by_hand(box_type):
    samples = [sample([[0, 0, 16, 8], [40, 40, 41, 41]], box_type=box_type),
               sample([], box_type=box_type)]
    feats = [torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 4, 4)]
    fine, coarse = box_cell_masks(samples, feats, [(8., 8.), (16., 16.)])
    assert fine.shape == (2, 8, 8) and coarse.shape == (2, 4, 4)
    expected = torch.zeros(2, 8, 8)
    expected[0, 0, 0:2] = 1  # x 0-16 on stride 8: cells 0 and 1, y cell 0
    expected[0, 5, 5] = 1  # a 1-pixel box still covers its cell
    assert torch.equal(fine, expected)
    expected = torch.zeros(2, 4, 4)
    expected[0, 0, 0] = expected[0, 2, 2] = 1
    assert torch.equal(coarse, expected)
    # overlapping boxes count once; strides inferred from the sizes
    (mask, ) = box_cell_masks([sample([[0, 0, 16, 16], [8, 8, 24, 24]])],
                              [torch.zeros(1, 1, 8, 8)], None)
    assert mask.max() == 1 and mask.sum() == 4 + 4 - 1
    # clamped to the image, as the teacher's boxes: the padding is no object
    (mask, ) = box_cell_masks([sample([[24, 24, 60, 60]], img=(32, 32))],
                              [torch.zeros(1, 1, 8, 8)], [(8., 8.)])
    assert mask[0, 3, 3] == 1 and mask.sum() == 1
    # a batch without a box: nothing to pull
    (empty, ) = box_cell_masks([sample([])], [torch.zeros(1, 1, 8, 8)], None)
    assert empty.sum() == 0


def js_channel_roots(s, t):
    """sqrt(D_JS + eps) per (image, location), channel softmax, float64."""
    p, q = s.log_softmax(1), t.log_softmax(1)
    m = torch.logaddexp(p, q) - torch.log(torch.tensor(2.))
    js = 0.5 * ((p.exp() * (p - m)).sum(1) + (q.exp() * (q - m)).sum(1))
    return torch.sqrt(js.clamp(min=0) + 1e-8)


@pytest.mark.parametrize('loss', ['JSDistanceLoss', 'MSELoss'])
def test_boxes_term_by_value(loss):
    """lambda * mean_p (mean over the box cells of level p)."""
    set_iter(50)
    cfg = dict(type=loss, axis='channel') if loss == 'JSDistanceLoss' \
        else dict(type=loss)
    model = build(distill_loss=cfg, adapter=None, distill_coef=2.0,
                  distill_region='boxes')
    data = inputs(model)
    student, teacher, losses = capture(model, data)
    masks = box_cell_masks(data['data_samples'], student,
                           model.region_strides)
    levels = []
    for s, t, mask in zip(student, teacher, masks):
        s, t = instance_norm(s.double()), instance_norm(t.double())
        mask = mask.double()
        assert mask.sum() > 0
        if loss == 'MSELoss':
            per_cell = (s - t).pow(2).mean(1)
        else:
            per_cell = js_channel_roots(s, t)
        levels.append((per_cell * mask).sum() / mask.sum())
    assert masks[0].sum() < masks[0].numel() / 2  # a real restriction
    expected = 2.0 * torch.stack(levels).mean()
    assert losses['loss_distill'].item() == pytest.approx(
        expected.item(), rel=1e-4)


def test_boxes_over_the_whole_input_is_the_whole_map():
    set_iter(50)
    data = None
    values = {}
    for region in ('all', 'boxes'):
        model = build(distill_loss=dict(type='JSDistanceLoss',
                                        axis='channel'),
                      distill_region=region)
        data = data or inputs(model)
        for s in data['data_samples']:
            h, w = s.batch_input_shape
            s.set_metainfo(dict(img_shape=(h, w)))  # no padding to clamp
            s.gt_instances = InstanceData(
                bboxes=torch.tensor([[0., 0., w, h]]),
                labels=torch.tensor([1]))
        values[region] = model(**data, mode='loss')['loss_distill'].item()
    assert values['boxes'] == pytest.approx(values['all'], rel=1e-5)


def test_region_is_checked_at_build_time():
    with pytest.raises(ValueError, match="'all' or 'boxes'"):
        build(distill_region='objects')
    # the default spatial JS has one distribution per channel, not per cell
    with pytest.raises(ValueError, match="axis='channel'"):
        build(distill_region='boxes')
    with pytest.raises(ValueError, match='value|location'):
        build(distill_region='boxes',
              distill_loss=dict(type='SSIMDistillLoss'))
    with pytest.raises(ValueError, match='give a distill_loss'):
        build(distill_region='boxes', distill_loss=None,
              logit_distill_loss=dict(type='AdaptiveDistillLoss'))
