# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""SSSDDistiller with a pretrained (frozen) teacher detector, alone or with
the label teacher, from a checkpoint written in the test."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import save_checkpoint

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.teachers.frozen_detector import load_model_config
from mmdet_sssd.testing import tiny_detector_cfg
from mmdet_sssd.utils import student_state_dict

register_all_modules()

NUM_CLASSES = 4
RETINANET = 'retinanet/retinanet_r50_fpn_1x_coco.py'


def teacher_cfg(fpn_channels=48):
    """A wider, deeper teacher than the student (ResNet-34, 48-ch FPN)."""
    cfg = tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES)
    cfg.backbone.depth = 34
    cfg.neck.out_channels = fpn_channels
    cfg.bbox_head.update(in_channels=fpn_channels, feat_channels=fpn_channels)
    return cfg


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    torch.manual_seed(1)
    teacher = MODELS.build(teacher_cfg())
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    save_checkpoint({'state_dict': teacher.state_dict()}, path)
    return path, teacher.state_dict()


def build(ckpt, cfg=None, **kwargs):
    torch.manual_seed(0)
    pretrained = dict(config=cfg or teacher_cfg(), checkpoint=ckpt)
    pretrained.update(kwargs.pop('pretrained', {}))
    return MODELS.build(dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES),
        pretrained_teacher=pretrained, **kwargs))


def data(num_items=(3, 2)):
    return demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]],
                          num_items=list(num_items), num_classes=NUM_CLASSES)


@pytest.fixture(autouse=True)
def iteration():
    MessageHub.get_current_instance().update_info('iter', 10)


@pytest.mark.parametrize('feat_loss', [
    dict(type='JSDistanceLoss'), dict(type='SSIMDistillLoss'),
    dict(type='MSELoss')
])
def test_teacher_frozen_not_saved_and_losses_train_the_student(
        teacher_ckpt, feat_loss):
    path, loaded = teacher_ckpt
    model = build(path, teacher=None,
                  pretrained=dict(feat_loss=feat_loss,
                                  logit_loss=dict(type='AdaptiveDistillLoss')))
    frozen = model.pretrained_teacher.model
    for k, v in frozen.state_dict().items():  # loaded from the checkpoint
        assert torch.equal(v, loaded[k]), k
    model.train()
    assert not frozen.training
    assert not any(p.requires_grad for p in frozen.parameters())

    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    losses = model.train_step(data(), optim)
    assert {'loss_pt_feat', 'loss_pt_logits'} <= set(losses)
    assert not any(k.startswith('teacher.') for k in losses)
    assert all(torch.isfinite(v) for v in losses.values())
    # no gradient, no update, no BN statistics update in the teacher
    for k, v in frozen.state_dict().items():
        assert torch.equal(v, loaded[k]), k
    assert all(p.grad is None for p in frozen.parameters())
    # not in the distiller's checkpoint, not in the exported student
    keys = list(model.state_dict())
    assert not any('pretrained' in k or 'detector' in k or 'teacher.' in k
                   for k in keys)
    assert any(k.startswith('terms.0.adapter.') for k in keys)
    exported = student_state_dict(model.state_dict())
    assert set(exported) == set(model.student.state_dict())


def test_pt_losses_reach_student_and_adapter(teacher_ckpt):
    model = build(teacher_ckpt[0], teacher=None,
                  pretrained=dict(logit_loss=dict(type='AdaptiveDistillLoss')))
    inputs = model.data_preprocessor(data(), True)
    losses = model(**inputs, mode='loss')
    (losses['loss_pt_feat'] + losses['loss_pt_logits']).backward()
    assert model.terms[-1].adapter.conv.weight.grad.abs().sum() > 0
    assert model.student.backbone.layer3[0].conv1.weight.grad.abs().sum() > 0
    # 1x1 adapter from the student's 32 channels to the teacher's 48
    assert model.terms[-1].adapter.conv.weight.shape[:2] == (48, 32)


def test_with_label_teacher_and_self_adl(teacher_ckpt):
    model = build(teacher_ckpt[0],
                  logit_distill_loss=dict(type='AdaptiveDistillLoss'))
    inputs = model.data_preprocessor(data(), True)
    losses = model(**inputs, mode='loss')
    for key in ('loss_distill', 'loss_distill_logits', 'loss_pt_feat',
                'teacher.loss_cls'):
        assert key in losses and torch.isfinite(
            torch.as_tensor(losses[key]).sum())
    # predictions are the plain student's
    model.eval()
    student = copy.deepcopy(model.student)
    ours = model(**model.data_preprocessor(data(), False), mode='predict')
    theirs = student(**student.data_preprocessor(data(), False),
                     mode='predict')
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)


def test_input_normalisation_follows_the_teacher(teacher_ckpt):
    cfg = teacher_cfg()
    cfg.data_preprocessor.update(mean=[103.53, 116.28, 123.675],
                                 std=[1.0, 1.0, 1.0], bgr_to_rgb=False)
    model = build(teacher_ckpt[0], cfg=cfg, teacher=None)
    raw = data()
    ours = model.data_preprocessor(copy.deepcopy(raw), True)['inputs']
    theirs = model.pretrained_teacher.model.data_preprocessor(
        copy.deepcopy(raw), True)['inputs']
    converted = model.pretrained_teacher._inputs(ours, model.data_preprocessor)
    torch.testing.assert_close(converted, theirs, atol=1e-3, rtol=1e-5)


def test_config_file_and_mmdet_names(teacher_ckpt, tmp_path):
    assert load_model_config(
        'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py').type == 'RetinaNet'
    cfg_file = tmp_path / 'teacher.py'
    cfg_file.write_text(f'model = {teacher_cfg().to_dict()!r}\n')
    model = build(teacher_ckpt[0], cfg=str(cfg_file), teacher=None)
    assert model.pretrained_teacher.neck.out_channels == 48


def four_levels(cfg):
    cfg.neck.num_outs = 4


def one_anchor_scale(cfg):
    cfg.bbox_head.anchor_generator.scales_per_octave = 1


@pytest.mark.parametrize('change, pretrained, words', [
    (four_levels, {}, 'FPN levels'),
    (one_anchor_scale,
     dict(feat_loss=None, logit_loss=dict(type='AdaptiveDistillLoss')),
     'priors per location'),
    (None, dict(checkpoint=None), 'checkpoint is required'),
    (None, dict(feat_loss=None), 'feat_loss, a logit_loss or both'),
    (None, dict(weights='x.pth'), 'pretrained_teacher takes'),
])
def test_misconfiguration_fails_at_build(teacher_ckpt, change, pretrained,
                                         words):
    cfg = teacher_cfg()
    if change is not None:
        change(cfg)
    # the checkpoint does not need to match for these errors: build fails
    # before or while loading it
    with pytest.raises((ValueError, RuntimeError), match=words):
        build(teacher_ckpt[0], cfg=cfg, teacher=None, pretrained=pretrained)


def test_nothing_to_distil_from_and_adl_without_teacher(teacher_ckpt):
    with pytest.raises(ValueError, match='nothing to distil from'):
        MODELS.build(dict(
            type='SSSDDistiller', teacher=None,
            detector=tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES)))
    with pytest.raises(ValueError, match='needs a teacher'):
        build(teacher_ckpt[0], teacher=None,
              logit_distill_loss=dict(type='AdaptiveDistillLoss'))


def test_adl_needs_a_head_of_its_activation(teacher_ckpt):
    """A RoI head classifies with a softmax: the sigmoid ADL is refused
    there (test_roi_logit_distill.py has the softmax one); a pretrained
    teacher's logits pair dense heads only."""
    faster = tiny_detector_cfg('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
                               num_classes=NUM_CLASSES)
    with pytest.raises(TypeError, match='use_sigmoid=False'):
        MODELS.build(dict(
            type='SSSDDistiller', detector=faster,
            logit_distill_loss=dict(type='AdaptiveDistillLoss')))
    with pytest.raises(TypeError, match='two-stage. Use feat_loss only'):
        MODELS.build(dict(
            type='SSSDDistiller', detector=faster, teacher=None,
            pretrained_teacher=dict(
                config=teacher_cfg(), checkpoint=teacher_ckpt[0],
                logit_loss=dict(type='AdaptiveDistillLoss',
                                use_sigmoid=False))))


def test_checkpoints_with_the_former_keys_load(teacher_ckpt):
    """Before the terms were modules the keys were teacher.*, adapter.*
    and pt_adapter.*; such a checkpoint loads strictly into terms.*."""
    model = build(teacher_ckpt[0],
                  pretrained=dict(feat_loss=dict(type='JSDistanceLoss')))
    state = model.state_dict()
    label, pretrained = model.label_term, model.terms[-1]
    assert label is not model.terms[-1]
    old = {}
    for key, value in state.items():
        for new, former in [('terms.0.teacher.', 'teacher.'),
                            ('terms.0.adapter.', 'adapter.'),
                            ('terms.1.adapter.', 'pt_adapter.')]:
            if key.startswith(new):
                key = former + key[len(new):]
                break
        old[key] = value.clone() + 1
    assert any(k.startswith('pt_adapter.') for k in old)
    fresh = build(teacher_ckpt[0],
                  pretrained=dict(feat_loss=dict(type='JSDistanceLoss')))
    fresh.load_state_dict(old, strict=True)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key] + 1), key
