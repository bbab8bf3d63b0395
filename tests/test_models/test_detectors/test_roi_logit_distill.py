# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""ADL of a two-stage student's RoI head: its softmax class scores for the
RoIs the student's pass sampled, on the student's and the label teacher's
maps."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.logging import MessageHub

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()

NUM_CLASSES = 4
FASTER = 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
ROI_ADL = dict(type='AdaptiveDistillLoss', use_sigmoid=False)


@pytest.fixture(autouse=True)
def iteration():
    MessageHub.get_current_instance().update_info('iter', 10)


def build(name=FASTER, **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('logit_distill_loss', ROI_ADL)
    return MODELS.build(dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg(name, num_classes=NUM_CLASSES), **kwargs))


def batch(model, name=FASTER):
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]], num_items=[3, 2],
                            num_classes=NUM_CLASSES, with_mask='mask' in name)
    return model.data_preprocessor(packed, True)


@pytest.mark.parametrize('name', [
    FASTER, 'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'])
def test_roi_logit_loss_trains_the_head_and_the_maps(name):
    model = build(name).train()
    losses = model(**batch(model, name), mode='loss')
    assert {'loss_distill', 'loss_distill_logits', 'teacher.loss_cls'} <= \
        set(losses)
    value = losses['loss_distill_logits']
    assert torch.isfinite(value) and value > 0
    value.backward()
    roi_cls = model.student.roi_head.bbox_head.fc_cls.weight.grad
    assert roi_cls is not None and roi_cls.abs().sum() > 0
    neck = next(model.student.neck.parameters()).grad
    assert neck is not None and neck.abs().sum() > 0
    # the teacher's side is a target: none of its weights learn from it
    assert all(p.grad is None for p in model.teacher.parameters())
    # the recorder of the student's box-head pass is gone
    assert '_bbox_forward' not in vars(model.student.roi_head)


def test_the_teacher_is_scored_on_the_students_rois(monkeypatch):
    """A control: a teacher that returns the student's maps gives the same
    scores for the same RoIs, so the loss is 0 (other RoIs, e.g. those of
    the teacher pass's own sampling, would not give 0)."""
    model = build().train()
    data = batch(model)
    monkeypatch.setattr(model.teacher, 'forward',
                        lambda feats, samples: list(feats))
    losses = model(**data, mode='loss')
    assert losses['loss_distill_logits'].item() == pytest.approx(0, abs=1e-6)
    # and the real teacher's maps do not
    monkeypatch.undo()
    assert model(**data, mode='loss')['loss_distill_logits'].item() > 1e-4


def test_student_logits_are_those_its_own_loss_used(monkeypatch):
    """The student's side is the (R, K + 1) scores of its own box-head pass
    (one pass: the logit loss adds none on the student's maps)."""
    model = build().train()
    roi_head = model.student.roi_head
    calls, forward = [], roi_head._bbox_forward

    def counted(x, rois):
        calls.append(rois.shape[0])
        return forward(x, rois)

    monkeypatch.setattr(roi_head, '_bbox_forward', counted)
    seen = {}
    loss_fn = model.label_term.logit_loss.forward

    def spy(pred, target, weight=None):
        seen['shapes'] = pred.shape, target.shape
        return loss_fn(pred, target, weight)

    monkeypatch.setattr(model.label_term.logit_loss, 'forward', spy)
    model(**batch(model), mode='loss')
    # the student's pass, the teacher's own pass, the teacher at the
    # student's RoIs
    assert len(calls) == 3 and calls[2] == calls[0]
    assert seen['shapes'] == ((calls[0], NUM_CLASSES + 1), ) * 2


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(logit_distill_loss=dict(type='AdaptiveDistillLoss')), TypeError,
     'use_sigmoid=False'),
    (dict(distill_batch_ratio=0.5), ValueError, 'distill_batch_ratio'),
    (dict(logit_grad_to='head'), TypeError, "use 'all'"),
    (dict(mask_ignored_anchors=True), TypeError, 'single-stage anchor head'),
])
def test_build_time_refusals(kwargs, error, match):
    with pytest.raises(error, match=match):
        build(**kwargs)


def test_other_heads_are_refused_at_build_time():
    with pytest.raises(TypeError, match='use_sigmoid=True'):
        build('retinanet/retinanet_r50_fpn_1x_coco.py')
    with pytest.raises(TypeError, match='or a two-stage one with a '
                       'StandardRoIHead; CascadeRCNN is neither'):
        build('cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py')
    # a StandardRoIHead that trains its box head its own way
    with pytest.raises(TypeError, match='the DynamicRoIHead of FasterRCNN '
                       'trains its box head in its own bbox_loss'):
        build('dynamic_rcnn/dynamic-rcnn_r50_fpn_1x_coco.py')
    # a box head without BBoxHead's classifier attributes (SABL)
    with pytest.raises(TypeError, match='SABLHead of FasterRCNN has none'):
        build('sabl/sabl-faster-rcnn_r50_fpn_1x_coco.py')


def test_in_the_warmup_the_students_step_is_the_plain_detectors():
    """With the head held from the teacher's losses and the student side
    detached (the recipe's warm-up), the student's losses and gradients
    are the plain Faster R-CNN's: its pass samples first, from the same
    random state (the teacher's sampling only moves the stream after)."""
    from mmdet_sssd.models.distill.phases import Phase
    model = build(teacher_trains_head=False, distill_warmup=3).train()
    model.init_weights()
    torch.manual_seed(0)
    plain = MODELS.build(tiny_detector_cfg(FASTER, num_classes=NUM_CLASSES))
    plain.init_weights()
    plain.train()
    data = batch(model)
    model.phase = Phase(detach_student=True)
    out = []
    for detector in (plain, model):
        torch.manual_seed(7)
        losses = detector(**data, mode='loss')
        loss = sum(v if torch.is_tensor(v) else sum(v)
                   for k, v in losses.items() if 'loss' in k)
        loss.backward()
        student = getattr(detector, 'student', detector)
        out.append((losses, dict(student.named_parameters())))
    (ours, ps), (theirs, qs) = out
    assert theirs['loss_distill_logits'].requires_grad is False
    for key in ('loss_cls', 'loss_bbox'):
        assert torch.equal(ours[key], theirs[key])
    for name, p in ps.items():
        q = qs[name].grad
        assert (p.grad is None) == (q is None), name
        if q is not None:
            torch.testing.assert_close(q, p.grad, rtol=1e-5, atol=1e-7)


def test_scoring_the_teacher_leaves_the_box_heads_batchnorm_statistics():
    """A box head with BatchNorm (4 convs, BN): scoring the teacher's maps
    at the student's RoIs is not a training pass, so the running
    statistics are those of the same step without the logit loss (the
    student's and the teacher's own passes)."""
    def bn_buffers(**kwargs):
        torch.manual_seed(0)
        detector = tiny_detector_cfg(FASTER, num_classes=NUM_CLASSES)
        detector.roi_head.bbox_head.update(
            type='Shared4Conv1FCBBoxHead', conv_out_channels=16,
            norm_cfg=dict(type='BN', requires_grad=True))
        model = MODELS.build(dict(type='SSSDDistiller', detector=detector,
                                  **kwargs)).train()
        torch.manual_seed(7)
        model(**batch(model), mode='loss')
        return {k: v.clone() for k, v in
                model.student.roi_head.bbox_head.named_buffers()}

    ours = bn_buffers(logit_distill_loss=ROI_ADL)
    plain = bn_buffers()
    assert ours and all('num_batches_tracked' not in k or v.item() == 2
                        for k, v in ours.items())
    for key, value in plain.items():
        torch.testing.assert_close(ours[key], value, rtol=0, atol=0)
