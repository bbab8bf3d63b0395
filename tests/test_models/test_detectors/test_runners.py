# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Head runners: shared targets and one stacked head call give the losses
of running the head twice; Libra necks ([FPN, BFP]); logit distillation's
gradients; the exported student by tensors."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MessageHub

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.distill import DenseHeadRunner, build_runner
from mmdet_sssd.testing import get_stock_config, tiny_detector_cfg
from mmdet_sssd.utils import student_config, student_state_dict

register_all_modules()
NUM_CLASSES = 4
# head: (targets shared, one stacked call)
SHARING = {
    'retinanet/retinanet_r50_fpn_1x_coco.py': (True, True),
    'fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py': (True, True),
    'atss/atss_r50_fpn_1x_coco.py': (True, True),
    'gfl/gfl_r50_fpn_1x_coco.py': (True, True),
    'fsaf/fsaf_r50_fpn_1x_coco.py': (True, True),
    'foveabox/fovea_r50_fpn_4xb4-1x_coco.py': (True, True),
    'paa/paa_r50_fpn_1x_coco.py': (False, True),
    'tood/tood_r50_fpn_1x_coco.py': (False, True),
    'yolox/yolox_tiny_8xb8-300e_coco.py': (False, False),
}


def data(model, num_items=(3, 2), train=True):
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]],
                            num_items=list(num_items),
                            num_classes=NUM_CLASSES)
    return model.data_preprocessor(packed, train)


def total(losses):
    return sum(v.sum() if torch.is_tensor(v) else sum(x.sum() for x in v)
               for k, v in losses.items() if 'loss' in k)


def flat_losses(losses):
    return {k: torch.stack([x.sum() for x in v]).sum()
            if isinstance(v, list) else v for k, v in losses.items()}


@pytest.mark.parametrize('name', list(SHARING))
def test_shared_targets_and_stacking_match_two_head_runs(name):
    torch.manual_seed(0)
    detector = MODELS.build(tiny_detector_cfg(name, num_classes=NUM_CLASSES))
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)  # TOOD
    hub.update_info('iter', 0)  # YOLOX's preprocessor
    runner = build_runner(detector)
    assert isinstance(runner, DenseHeadRunner)
    assert (runner.shares_targets, runner.stacks) == SHARING[name]
    batch = data(detector)
    feats = detector.extract_feat(batch['inputs'])
    other = [f.flip(-1) * 0.5 + 0.1 for f in feats]
    samples = batch['data_samples']
    ours = runner.run([feats, other], samples, [True, True], True)
    for (losses, logits, _), maps in zip(ours, [feats, other]):
        expected = flat_losses(detector.bbox_head.loss(maps, samples))
        got = flat_losses(losses)
        assert set(got) == set(expected)
        for key in expected:
            torch.testing.assert_close(got[key], expected[key], rtol=1e-5,
                                       atol=1e-5, msg=key)
        torch.testing.assert_close(logits[0],
                                   detector.bbox_head(maps)[0][0])


def libra(name, **neck):
    """The tiny detector with Libra R-CNN's [FPN, BFP] neck."""
    cfg = tiny_detector_cfg(name, num_classes=NUM_CLASSES)
    cfg.neck = [cfg.neck, dict(type='BFP', in_channels=32, num_levels=5,
                               **neck)]
    if 'rcnn' in name:
        stock = get_stock_config(
            'libra_rcnn/libra-faster-rcnn_r50_fpn_1x_coco.py').model
        cfg.train_cfg.rcnn.sampler = stock.train_cfg.rcnn.sampler
        cfg.roi_head.bbox_head.loss_bbox = stock.roi_head.bbox_head.loss_bbox
    return cfg


@pytest.mark.parametrize('name, refine', [
    ('retinanet/retinanet_r50_fpn_1x_coco.py', 1),
    ('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', 2),
])
def test_libra_necks_train_and_predict_as_the_student(name, refine):
    cfg = libra(name, refine_level=refine, refine_type='non_local')
    torch.manual_seed(0)
    model = MODELS.build(dict(type='SSSDDistiller', detector=cfg))
    assert type(model.student.neck).__name__ == 'Sequential'
    assert model.teacher.num_levels == 5
    MessageHub.get_current_instance().update_info('iter', 0)
    losses = model(**data(model), mode='loss')
    loss = total(losses)
    loss.backward()
    assert torch.isfinite(loss) and 'loss_distill' in losses
    assert model.student.neck[1].refine.g.conv.weight.grad is not None
    student = MODELS.build(cfg)
    student.load_state_dict(model.student.state_dict())
    model.eval(), student.eval()
    batch = data(model, train=False)
    with torch.no_grad():
        ours = model(**copy.deepcopy(batch), mode='predict')
        theirs = student(**copy.deepcopy(batch), mode='predict')
    for a, b in zip(ours, theirs):
        assert torch.equal(a.pred_instances.bboxes, b.pred_instances.bboxes)
        assert torch.equal(a.pred_instances.scores, b.pred_instances.scores)


def test_logit_distillation_trains_the_student_side_only():
    torch.manual_seed(0)
    MessageHub.get_current_instance().update_info('iter', 0)
    model = MODELS.build(dict(
        type='SSSDDistiller', detector=tiny_detector_cfg(
            'retinanet/retinanet_r50_fpn_1x_coco.py',
            num_classes=NUM_CLASSES), distill_loss=None,
        logit_distill_loss=dict(type='AdaptiveDistillLoss')))
    losses = model(**data(model), mode='loss')
    losses['loss_distill_logits'].backward()
    head = model.student.bbox_head
    assert head.retina_cls.weight.grad.abs().sum() > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.student.neck.parameters())
    # the teacher side (its maps, hence the label teacher) is detached
    assert all(p.grad is None or p.grad.abs().sum() == 0
               for p in model.teacher.parameters())


def test_exported_student_equals_the_distiller():
    name = 'retinanet/retinanet_r50_fpn_1x_coco.py'
    cfg = Config(dict(model=dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg(name, num_classes=NUM_CLASSES))))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    MessageHub.get_current_instance().update_info('iter', 0)
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = model(**data(model), mode='loss')
    total(losses).backward()
    optim.step()  # weights that differ from any initialisation
    weights = student_state_dict({'state_dict': model.state_dict()})
    exported = MODELS.build(student_config(cfg).model)
    exported.load_state_dict(weights, strict=True)
    for key, value in exported.state_dict().items():
        assert torch.equal(value, model.student.state_dict()[key]), key
    model.eval(), exported.eval()
    batch = data(model, train=False)
    with torch.no_grad():
        ours = model(**copy.deepcopy(batch), mode='predict')
        theirs = exported(**copy.deepcopy(batch), mode='predict')
    for a, b in zip(ours, theirs):
        for field in ('bboxes', 'scores', 'labels'):
            assert torch.equal(a.pred_instances[field],
                               b.pred_instances[field])


def test_maps_as_features_puts_back_a_wrapper_set_on_the_detector():
    """Runs from the given maps, then leaves the detector's own
    ``extract_feat`` as it was: the class's, or a wrapper someone set on
    the instance (a profiler, a recorder)."""
    from mmdet_sssd.models.distill.runners import maps_as_features
    detector = MODELS.build(tiny_detector_cfg(
        'retinanet/retinanet_r50_fpn_1x_coco.py', num_classes=NUM_CLASSES))
    maps = [torch.zeros(1, 1, 2, 2)]
    with maps_as_features(detector, maps):
        assert detector.extract_feat(None) is maps
    assert 'extract_feat' not in vars(detector)

    def wrapper(x):
        return type(detector).extract_feat(detector, x)

    detector.extract_feat = wrapper
    with maps_as_features(detector, maps):
        assert detector.extract_feat(None) is maps
    assert detector.extract_feat is wrapper
