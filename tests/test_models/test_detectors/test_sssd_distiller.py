"""SSSDDistiller on small real detectors built from mmdet's stock configs."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.logging import MessageHub

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import get_stock_config, tiny_detector_cfg

register_all_modules()

NUM_CLASSES = 4
DETECTORS = [
    'retinanet/retinanet_r50_fpn_1x_coco.py',
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'atss/atss_r50_fpn_1x_coco.py',
    'gfl/gfl_r50_fpn_1x_coco.py',
    'fsaf/fsaf_r50_fpn_1x_coco.py',
    'foveabox/fovea_r50_fpn_4xb4-1x_coco.py',
    'paa/paa_r50_fpn_1x_coco.py',
    'vfnet/vfnet_r50_fpn_1x_coco.py',
    'tood/tood_r50_fpn_1x_coco.py',
    'autoassign/autoassign_r50-caffe_fpn_1x_coco.py',
    'yolox/yolox_tiny_8xb8-300e_coco.py',
    'rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
    'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'cascade_rcnn/cascade-rcnn_r50_fpn_1x_coco.py',
]


def set_iter(i, epoch=0):
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', i)
    hub.update_info('epoch', epoch)


def build(name, **kwargs):
    torch.manual_seed(0)
    detector = tiny_detector_cfg(name, num_classes=NUM_CLASSES)
    model = MODELS.build(dict(type='SSSDDistiller', detector=detector,
                              **kwargs))
    if hasattr(model.student, 'set_epoch'):  # TOOD's SetEpochInfoHook
        model.set_epoch(0)
    return model


def batch(model, name='', num_items=(3, 0), train=True):
    packed = demo_mm_inputs(
        2, [[3, 96, 128], [3, 80, 100]], num_items=list(num_items),
        num_classes=NUM_CLASSES, with_mask='mask' in name)
    return model.data_preprocessor(packed, train)


def total(losses):
    out = 0
    for key, value in losses.items():
        if 'loss' in key:
            out = out + (sum(value) if isinstance(value, list) else value)
    return out


@pytest.mark.parametrize('name', DETECTORS)
def test_train_step_and_student_predictions(name):
    set_iter(0)
    model = build(name)
    model.train()
    losses = model(**batch(model, name), mode='loss')
    keys = set(losses)
    assert 'loss_distill' in keys
    student_keys = {k for k in keys if not k.startswith('teacher.')} - {
        'loss_distill'}
    assert {f'teacher.{k}' for k in student_keys} <= keys
    loss = total(losses)
    assert torch.isfinite(loss)
    loss.backward()
    for pname, p in model.named_parameters():
        if p.grad is not None:
            assert torch.isfinite(p.grad).all(), pname
    assert any(p.grad is not None for p in model.teacher.parameters())

    # predict/tensor modes are exactly the plain student with its weights.
    student = MODELS.build(tiny_detector_cfg(name, num_classes=NUM_CLASSES))
    student.load_state_dict(model.student.state_dict())
    model.eval()
    student.eval()
    data = batch(model, name, train=False)
    with torch.no_grad():
        ours = model(**copy.deepcopy(data), mode='predict')
        theirs = student(**copy.deepcopy(data), mode='predict')
        for a, b in zip(ours, theirs):
            assert torch.equal(a.pred_instances.bboxes,
                               b.pred_instances.bboxes)
            assert torch.equal(a.pred_instances.scores,
                               b.pred_instances.scores)
        raw_ours = model(**copy.deepcopy(data), mode='tensor')
        raw_theirs = student(**copy.deepcopy(data), mode='tensor')
        flat = lambda x: [t for t in torch.utils._pytree.tree_leaves(x)
                          if torch.is_tensor(t)]
        for a, b in zip(flat(raw_ours), flat(raw_theirs)):
            assert torch.equal(a, b)


def grads(module):
    return [p.grad for p in module.parameters() if p.requires_grad]


def test_distill_loss_reaches_student_and_adapter_not_teacher():
    set_iter(10)
    model = build(DETECTORS[0])
    losses = model(**batch(model), mode='loss')
    losses['loss_distill'].backward()
    assert all(g is None or not g.any() for g in grads(model.teacher))
    assert any(g is not None and g.abs().sum() > 0 for g in grads(model.label_term.adapter))
    assert any(g is not None and g.abs().sum() > 0
               for g in grads(model.student.neck))


def test_teacher_detection_loss_reaches_teacher():
    set_iter(10)
    model = build(DETECTORS[0])
    losses = model(**batch(model), mode='loss')
    teacher_loss = sum(total({k: v}) for k, v in losses.items()
                       if k.startswith('teacher.'))
    teacher_loss.backward()
    assert any(g is not None and g.abs().sum() > 0 for g in grads(model.teacher))


@pytest.mark.parametrize('by_epoch', [False, True])
def test_distill_warmup_detaches_student(by_epoch):
    model = build(DETECTORS[0], distill_warmup=5, by_epoch=by_epoch)
    # what AdaptiveDistillCoefHook sets before each iteration
    model.phase = model.phases.at(3 if not by_epoch else 50,
                                  3 if by_epoch else 0)
    losses = model(**batch(model), mode='loss')
    losses['loss_distill'].backward()
    assert all(g is None or not g.any() for g in grads(model.student))
    assert any(g is not None and g.abs().sum() > 0 for g in grads(model.label_term.adapter))

    model.zero_grad(set_to_none=True)
    model.phase = model.phases.at(5 if not by_epoch else 60,
                                  5 if by_epoch else 0)
    losses = model(**batch(model), mode='loss')
    losses['loss_distill'].backward()
    assert any(g is not None and g.abs().sum() > 0
               for g in grads(model.student.neck))


def test_backbone_freeze():
    model = build(DETECTORS[-3], backbone_freeze=2)  # Faster R-CNN
    model.phase = model.phases.at(1, 0)
    total(model(**batch(model, DETECTORS[-3]), mode='loss')).backward()
    assert all(g is None for g in grads(model.student.backbone))
    assert any(g is not None for g in grads(model.student.neck))
    model.zero_grad(set_to_none=True)
    model.phase = model.phases.at(2, 0)
    total(model(**batch(model, DETECTORS[-3]), mode='loss')).backward()
    assert any(g is not None for g in grads(model.student.backbone))


def test_phases_without_the_hook_are_an_error():
    model = build(DETECTORS[0], distill_warmup=5)
    with pytest.raises(RuntimeError, match='AdaptiveDistillCoefHook'):
        model(**batch(model), mode='loss')


@pytest.mark.parametrize('by_epoch', [False, True])
def test_phases_at(by_epoch):
    from mmdet_sssd.models.distill.phases import DistillPhases, Phase
    phases = DistillPhases(warmup=2, backbone_freeze=1, by_epoch=by_epoch)
    seen = [phases.at(i, i) for i in range(10)]
    assert seen[0] == Phase(detach_student=True, freeze_backbone=True)
    assert seen[1] == Phase(detach_student=True, freeze_backbone=False)
    assert seen[2:] == [Phase()] * 8
    assert not DistillPhases().active and phases.active
    # the ramp: lambda's share after the warm-up, full in it
    ramped = DistillPhases(warmup=2, by_epoch=by_epoch, ramp=4)
    assert [ramped.at(i, i).ramp for i in range(8)] == [
        1, 1, .25, .5, .75, 1, 1, 1]
    assert [DistillPhases(ramp=2).at(i, 0).ramp for i in range(3)] == [
        .5, 1, 1]
    assert DistillPhases(ramp=2).active
    every3 = DistillPhases(interval=3, by_epoch=by_epoch)
    assert every3.active  # the hook sets which iterations distil
    # counted in iterations, whatever the units of the other phases
    assert [every3.at(i, 0).distill for i in range(7)] == [
        True, False, False, True, False, False, True]


@pytest.mark.parametrize('name', [DETECTORS[0], DETECTORS[-3]])
def test_distill_interval_skips_the_teachers(name):
    model = build(name, distill_interval=2)
    student = MODELS.build(tiny_detector_cfg(name, num_classes=NUM_CLASSES))
    student.load_state_dict(model.student.state_dict())
    data = batch(model, name)
    model.phase = model.phases.at(1, 0)  # an iteration between two
    assert not model.phase.distill
    torch.manual_seed(1)  # the RPN and RoI samplers draw
    losses = model(**copy.deepcopy(data), mode='loss')
    torch.manual_seed(1)
    plain = student(**copy.deepcopy(data), mode='loss')
    # what the plain student computes, nothing more
    assert losses.keys() == plain.keys()
    torch.testing.assert_close(total(losses), total(plain))
    total(losses).backward()
    assert all(g is None for g in grads(model.terms))
    model.zero_grad(set_to_none=True)
    model.phase = model.phases.at(2, 0)
    losses = model(**copy.deepcopy(data), mode='loss')
    assert 'loss_distill' in losses and 'teacher.loss_cls' in str(losses)
    total(losses).backward()
    assert any(g is not None for g in grads(model.terms))


@pytest.mark.parametrize('num_imgs, ratio, first_n', [(2, 0.5, 1),
                                                     (4, 0.5, 2),
                                                     (4, 0.3, 2)])
def test_distill_batch_ratio_gives_the_teachers_the_first_images(
        num_imgs, ratio, first_n):
    # the distillation of a batch at a ratio is that of its first images
    # alone (eval mode: the backbone's BatchNorm does not see the batch;
    # images of one size: the same padding)
    name = DETECTORS[0]
    kwargs = dict(logit_distill_loss=dict(type='AdaptiveDistillLoss'),
                  mask_ignored_anchors=True)
    half = build(name, distill_batch_ratio=ratio, **kwargs).eval()
    whole = build(name, **kwargs).eval()
    whole.load_state_dict(half.state_dict())
    packed = demo_mm_inputs(num_imgs, [[3, 96, 128]] * num_imgs,
                            num_items=[3, 2, 1, 2][:num_imgs],
                            num_classes=NUM_CLASSES)
    data = half.data_preprocessor(packed, True)
    first = dict(inputs=data['inputs'][:first_n],
                 data_samples=data['data_samples'][:first_n])
    ours = half(**copy.deepcopy(data), mode='loss')
    theirs = whole(**copy.deepcopy(first), mode='loss')
    assert ours.keys() == theirs.keys()
    distilled = [k for k in ours if k.startswith(('teacher.', 'loss_distill'))]
    assert 'loss_distill_logits' in distilled
    for key in distilled:
        torch.testing.assert_close(total({key: ours[key]}),
                                   total({key: theirs[key]}), msg=key)
    # the student's own loss sees every image
    assert not torch.allclose(total({'loss_cls': ours['loss_cls']}),
                              total({'loss_cls': theirs['loss_cls']}))


@pytest.mark.parametrize('name', [DETECTORS[1], DETECTORS[-3]])
def test_distill_batch_ratio_trains_every_part(name):
    set_iter(10)
    model = build(name, distill_batch_ratio=0.5)
    losses = model(**batch(model, name), mode='loss')
    total(losses).backward()
    assert torch.isfinite(total(losses))
    for part in (model.teacher, model.label_term.adapter, model.student):
        assert any(g is not None and g.abs().sum() > 0 for g in grads(part))


@pytest.mark.parametrize('ratio', [0, -0.5, 1.5, True, '0.5'])
def test_distill_batch_ratio_is_checked_at_build(ratio):
    with pytest.raises(ValueError, match='distill_batch_ratio'):
        build(DETECTORS[0], distill_batch_ratio=ratio)


@pytest.mark.parametrize('interval', [0, -1, 1.5, True, '2'])
def test_distill_interval_is_checked_at_build(interval):
    with pytest.raises(ValueError, match='distill_interval'):
        build(DETECTORS[0], distill_interval=interval)


def test_teacher_losses_and_mse():
    set_iter(10)
    torch.manual_seed(0)
    model = build(DETECTORS[1], distill_loss=dict(type='MSELoss'))
    data = batch(model)
    losses = model(**copy.deepcopy(data), mode='loss')
    for key in ('teacher.loss_cls', 'teacher.loss_bbox'):
        assert torch.isfinite(total({key: losses[key]})) and key in losses
    assert losses['loss_distill'] > 0


def test_partial_overrides_complete_the_defaults():
    # what --cfg-options model.distill_loss.tau=0.5 gives on a config that
    # leaves the loss and the teacher to the distiller's defaults
    model = build(DETECTORS[0], distill_loss=dict(tau=0.5, axis='channel'),
                  teacher=dict(feat_channels=16))
    assert type(model.label_term.feat_loss).__name__ == 'JSDistanceLoss'
    assert (model.label_term.feat_loss.tau, model.label_term.feat_loss.axis) == (0.5,
                                                                 'channel')
    assert type(model.teacher).__name__ == 'LabelEncoderTeacher'
    assert model.teacher.appearance_fc.in_features == 16


def test_two_stage_teacher_detaches_appearance_by_default():
    assert build(DETECTORS[-3]).teacher.detach_appearance
    assert not build(DETECTORS[0]).teacher.detach_appearance


@pytest.mark.parametrize('name, kwargs, error, words', [
    ('retinanet/retinanet_r50_fpn_1x_coco.py',
     dict(teacher=dict(type='LabelEncoderTeacher', in_channels=256)),
     ValueError, 'teacher.in_channels=256'),
    ('retinanet/retinanet_r50_fpn_1x_coco.py',
     dict(teacher=dict(type='LabelEncoderTeacher', num_classes=80)),
     ValueError, 'num_classes'),
    ('retinanet/retinanet_r50_fpn_1x_coco.py',
     dict(adapter=dict(num_convs=2, kernel=3)), ValueError, 'adapter'),
    ('retinanet/retinanet_r50_fpn_1x_coco.py',
     dict(distill_loss=dict(type='JSDistanceLoss', axis='pixel')),
     ValueError, 'axis'),
])
def test_misconfiguration_fails_at_build(name, kwargs, error, words):
    with pytest.raises(error, match=words):
        build(name, **kwargs)


def test_unsupported_detectors_fail_at_build():
    detr = tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py')
    detr = dict(type='DETR', backbone=detr.backbone,
                neck=dict(type='ChannelMapper', in_channels=[128],
                          out_channels=32, num_outs=1),
                bbox_head=dict(type='DETRHead', num_classes=3, embed_dims=32),
                encoder=dict(num_layers=1, layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=32, num_heads=2),
                    ffn_cfg=dict(embed_dims=32, feedforward_channels=32))),
                decoder=dict(num_layers=1, layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=32, num_heads=2),
                    cross_attn_cfg=dict(embed_dims=32, num_heads=2),
                    ffn_cfg=dict(embed_dims=32, feedforward_channels=32))),
                positional_encoding=dict(num_feats=16, normalize=True))
    detr['backbone']['out_indices'] = (3, )
    with pytest.raises(TypeError, match='DETR is neither'):
        MODELS.build(dict(type='SSSDDistiller', detector=detr))

    yolof = tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py')
    yolof.neck = dict(type='DilatedEncoder', in_channels=128, out_channels=32,
                      block_mid_channels=16, num_residual_blocks=1,
                      block_dilations=[2])
    yolof.backbone.out_indices = (3, )
    with pytest.raises(TypeError, match='no multi-level neck'):
        MODELS.build(dict(type='SSSDDistiller', detector=yolof))

    # TridentNet: C4 maps, no neck (built as the stock config, not shrunk)
    trident = get_stock_config('tridentnet/tridentnet_r50-caffe_1x_coco.py')
    trident.model.backbone.init_cfg = None
    with pytest.raises(TypeError, match='TridentFasterRCNN has no '
                       'multi-level neck'):
        MODELS.build(dict(type='SSSDDistiller', detector=trident.model))


@pytest.mark.parametrize('name', [DETECTORS[0], DETECTORS[-3]])
def test_teacher_trains_head_option(name):
    set_iter(10)
    for trains in (True, False):
        model = build(name, teacher_trains_head=trains)
        losses = model(**batch(model, name), mode='loss')
        teacher_loss = sum(total({k: v}) for k, v in losses.items()
                           if k.startswith('teacher.'))
        teacher_loss.backward()
        heads = model.head_runner.heads
        head_grads = [g for h in heads for g in grads(h)]
        assert any(g is not None and g.abs().sum() > 0
                   for g in head_grads) == trains
        # the teacher learns either way, and the head stays trainable
        assert any(g is not None and g.abs().sum() > 0
                   for g in grads(model.teacher))
        assert all(p.requires_grad for h in heads for p in h.parameters())


@pytest.mark.parametrize('name', [DETECTORS[0], DETECTORS[-3]])
def test_teacher_trains_head_during_the_warmup_only(name):
    from mmdet_sssd.models.distill.phases import Phase
    model = build(name, teacher_trains_head='warmup', distill_warmup=5)
    for in_warmup in (True, False):
        model.zero_grad()
        model.phase = Phase(detach_student=in_warmup)
        losses = model(**batch(model, name), mode='loss')
        sum(total({k: v}) for k, v in losses.items()
            if k.startswith('teacher.')).backward()
        head_grads = [g for h in model.head_runner.heads for g in grads(h)]
        assert any(g is not None and g.abs().sum() > 0
                   for g in head_grads) == in_warmup
        assert any(g is not None and g.abs().sum() > 0
                   for g in grads(model.teacher))
    for bad in (dict(teacher_trains_head='warmup'),
                dict(teacher_trains_head='always', distill_warmup=5)):
        with pytest.raises(ValueError, match='teacher_trains_head'):
            build(name, **bad)


def test_student_starts_from_the_plain_detectors_weights():
    # Same seed, same initial weights as the stock detector: the extra
    # modules are built without moving the global RNG.
    cfg = tiny_detector_cfg(DETECTORS[0], num_classes=NUM_CLASSES)
    torch.manual_seed(0)
    plain = MODELS.build(copy.deepcopy(cfg))
    plain.init_weights()
    torch.manual_seed(0)
    model = MODELS.build(dict(type='SSSDDistiller', detector=cfg))
    model.init_weights()
    theirs = model.student.state_dict()
    for key, value in plain.state_dict().items():
        assert torch.equal(value, theirs[key]), key


@pytest.mark.parametrize('name', [
    'retinanet/retinanet_r50_fpn_1x_coco.py',
    'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
])
def test_predict_with_teacher(name):
    """The diagnostic mode detects with the student's head(s) on the label
    teacher's maps, which follow the GT; the default stays the student."""
    model = build(name).eval()
    data = batch(model, name, num_items=(3, 2), train=False)
    with torch.no_grad():
        student = model(**copy.deepcopy(data), mode='predict')
        model.predict_with_teacher = True
        ours = model(**copy.deepcopy(data), mode='predict')
        samples = copy.deepcopy(data['data_samples'])
        maps = model.teacher(model.student.extract_feat(data['inputs']),
                             samples)
        if 'retinanet' in name:
            expected = model.student.bbox_head.predict(maps, samples,
                                                       rescale=True)
        else:
            proposals = model.student.rpn_head.predict(
                maps, samples, rescale=False)
            expected = model.student.roi_head.predict(
                maps, proposals, samples, rescale=True)
        # other GT labels, other teacher maps, other detections
        relabelled = copy.deepcopy(data)
        for s in relabelled['data_samples']:
            s.gt_instances.labels = (s.gt_instances.labels + 1) % NUM_CLASSES
        other = model(**relabelled, mode='predict')
        # LabelTeacherValLoop's pass: both from one backbone pass
        pair = copy.deepcopy(data)
        pair_student, pair_teacher = model.predict_pair(
            pair['inputs'], pair['data_samples'])
    for a, b in zip(pair_student + pair_teacher, student + ours):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)
        assert torch.equal(a.pred_instances.scores, b.pred_instances.scores)
    for a, b in zip(ours, expected):
        assert torch.equal(a.pred_instances.bboxes, b.bboxes)
        assert torch.equal(a.pred_instances.scores, b.scores)
    assert not torch.equal(ours[0].pred_instances.scores,
                           student[0].pred_instances.scores)
    assert not torch.equal(ours[0].pred_instances.scores,
                           other[0].pred_instances.scores)

    for s in data['data_samples']:
        del s.gt_instances
    with pytest.raises(ValueError, match='LoadAnnotations'):
        model(**data, mode='predict')


def test_teacher_swap():
    """The diagnostic halves: the teacher's scores with the student's boxes
    and the converse, each the head's own decoding of the mixed outputs;
    dense single-stage heads only."""
    name = 'retinanet/retinanet_r50_fpn_1x_coco.py'
    model = build(name).eval()
    data = batch(model, name, num_items=(3, 2), train=False)
    head = model.student.bbox_head
    with torch.no_grad():
        samples = copy.deepcopy(data['data_samples'])
        feats = model.student.extract_feat(data['inputs'])
        (s_cls, s_box), (t_cls, t_box) = head(feats), head(
            model.teacher(feats, samples))
        metas = [s.metainfo for s in samples]
        expected = {
            'scores': head.predict_by_feat(t_cls, s_box, rescale=True,
                                           batch_img_metas=metas),
            'boxes': head.predict_by_feat(s_cls, t_box, rescale=True,
                                          batch_img_metas=metas)}
        got = {}
        for swap in ('scores', 'boxes'):
            model.teacher_swap = swap
            got[swap] = model.predict_pair(
                *copy.deepcopy((data['inputs'], data['data_samples'])))
        model.teacher_swap = None
        _, own = model.predict_pair(
            *copy.deepcopy((data['inputs'], data['data_samples'])))
    for swap, (student, mixed) in got.items():
        for a, b in zip(mixed, expected[swap]):
            assert torch.equal(a.pred_instances.bboxes, b.bboxes)
            assert torch.equal(a.pred_instances.scores, b.scores)
        assert not torch.equal(mixed[0].pred_instances.bboxes,
                               own[0].pred_instances.bboxes)
    # the student's own predictions are untouched
    for a, b in zip(got['scores'][0], got['boxes'][0]):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)

    model.teacher_swap = 'logits'
    with pytest.raises(ValueError, match='teacher_swap'):
        model.predict_pair(data['inputs'], data['data_samples'])
    two_stage = build('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py').eval()
    two_stage.teacher_swap = 'scores'
    data = batch(two_stage, 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
                 num_items=(1, 1), train=False)
    with pytest.raises(TypeError, match='dense single-stage head'):
        two_stage.predict_pair(data['inputs'], data['data_samples'])


def test_logit_distill_loss_needs_a_teacher():
    name = 'retinanet/retinanet_r50_fpn_1x_coco.py'
    with pytest.raises(ValueError, match='needs a teacher'):
        MODELS.build(dict(
            type='SSSDDistiller', teacher=None,
            detector=tiny_detector_cfg(name, num_classes=NUM_CLASSES),
            logit_distill_loss=dict(type='AdaptiveDistillLoss')))


def test_teacher_class_loss_is_a_teacher_loss():
    set_iter(5)
    name = 'retinanet/retinanet_r50_fpn_1x_coco.py'
    model = build(name, teacher=dict(type='LabelEncoderTeacher',
                                     class_loss_weight=1.0))
    losses = model(**batch(model), mode='loss')
    assert losses['teacher.loss_class'] > 0
    losses['teacher.loss_class'].backward()
    # it trains the teacher (and its readout), not the student
    assert model.teacher.class_readout.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.student.bbox_head.parameters())
    assert 'teacher.loss_class' not in build(name)(**batch(model),
                                                   mode='loss')


def test_init_weights_reaches_the_teacher_through_its_term():
    """mmengine's init_weights recurses through BaseModules only: the terms
    (and their ModuleList) are BaseModules, so the label teacher's convs get
    their init as when the teacher was the distiller's own child."""
    model = build(DETECTORS[0])
    assert not model.teacher.is_init
    model.init_weights()
    assert model.teacher.is_init


def test_logit_grad_to_splits_the_logit_terms_gradient():
    """'head' and 'maps' each keep one part of the full term's gradient,
    exactly, and none of the other; the loss value is the same."""
    set_iter(10)
    name = DETECTORS[0]

    def term_grads(route):
        model = build(name, logit_distill_loss=dict(
            type='AdaptiveDistillLoss'), logit_grad_to=route)
        losses = model(**batch(model, num_items=(3, 2)), mode='loss')
        losses['loss_distill_logits'].backward()
        flat = lambda m: torch.cat([  # noqa: E731
            (p.grad if p.grad is not None else torch.zeros_like(p))
            .flatten() for p in m.parameters()])
        return (losses['loss_distill_logits'].detach(),
                flat(model.student.bbox_head), flat(model.student.neck))

    value, head, neck = term_grads('all')
    assert head.abs().sum() > 0 and neck.abs().sum() > 0
    value_h, head_h, neck_h = term_grads('head')
    value_m, head_m, neck_m = term_grads('maps')
    torch.testing.assert_close(value_h, value)
    torch.testing.assert_close(value_m, value)
    torch.testing.assert_close(head_h, head)
    assert not neck_h.any()
    torch.testing.assert_close(neck_m, neck)
    assert not head_m.any()


@pytest.mark.parametrize('route', ['head', 'maps'])
def test_logit_grad_to_adds_no_head_pass_in_the_warmup(route, monkeypatch):
    """The restricted logits are recomputed after the warm-up only: in it
    the student's logits are detached anyway."""
    from mmdet_sssd.models.distill.phases import Phase
    model = build(DETECTORS[0], distill_warmup=5, logit_grad_to=route,
                  logit_distill_loss=dict(type='AdaptiveDistillLoss'))
    calls = []
    recompute = model.head_runner.logits
    monkeypatch.setattr(model.head_runner, 'logits',
                        lambda *a, **k: calls.append(1) or recompute(*a, **k))
    inputs = batch(model, num_items=(3, 2))
    for in_warmup in (True, False):
        model.phase = Phase(detach_student=in_warmup)
        losses = model(**inputs, mode='loss')
        assert 'loss_distill_logits' in losses
        assert len(calls) == (0 if in_warmup else 1)


def test_logit_grad_to_is_checked_at_build():
    name = DETECTORS[0]
    with pytest.raises(ValueError, match="'all', 'head' or 'maps'"):
        build(name, logit_grad_to='neck',
              logit_distill_loss=dict(type='AdaptiveDistillLoss'))
    with pytest.raises(ValueError, match='give logit_distill_loss'):
        build(name, logit_grad_to='head')
