# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""ADL as the reference code computes it (Tangshitao/Semi-supervised-
Adaptive-Distillation): alpha-weighted BCE, the assigner's ignore band
masked out, the temperature as a T^2 loss scale; and SAD's build checks."""
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures.bbox import bbox_overlaps
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import save_checkpoint

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()

NUM_CLASSES = 4
RETINANET = 'retinanet/retinanet_r50_fpn_1x_coco.py'
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
# the shipped preset (configs/adl/adl-reference-*, configs/sad), at T = 2
REFERENCE_ADL = dict(Config.fromfile(osp.join(
    ROOT, 'configs', '_base_', 'adl_reference.py')).reference_adl,
    temperature=2.0)


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    torch.manual_seed(1)
    cfg = tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES)
    model = MODELS.build(cfg)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    save_checkpoint({'state_dict': model.state_dict()}, path)
    return cfg, path


@pytest.fixture(autouse=True)
def iteration():
    MessageHub.get_current_instance().update_info('iter', 10)


def build(teacher, detector=RETINANET, **kwargs):
    cfg, path = teacher
    torch.manual_seed(0)
    pretrained = dict(config=cfg, checkpoint=path, feat_loss=None,
                      logit_loss=REFERENCE_ADL)
    pretrained.update(kwargs.pop('pretrained', {}))
    return MODELS.build(dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg(detector, num_classes=NUM_CLASSES),
        teacher=None, pretrained_teacher=pretrained, **kwargs))


def ignored_anchors(head, samples, sizes):
    """Per image, the anchors (rows in mmdet's (level, H, W, A) order) that
    RetinaNet's MaxIoUAssigner ignores: best IoU in [0.4, 0.5) and not the
    best anchor of any box (min_pos_iou=0, gt_max_assign_all)."""
    anchors = torch.cat(head.prior_generator.grid_priors(sizes, device='cpu'))
    out = []
    for sample in samples:
        iou = bbox_overlaps(sample.gt_instances.bboxes, anchors)  # (G, A)
        best = iou.max(dim=0).values
        is_gt_best = (iou == iou.max(dim=1, keepdim=True).values).any(0)
        out.append((best >= 0.4) & (best < 0.5) & ~is_gt_best)
    return torch.stack(out)


def test_reference_adl_equals_direct_float64_formula(teacher):
    model = build(teacher, mask_ignored_anchors=True)
    model.train()
    batch = model.data_preprocessor(demo_mm_inputs(
        2, [[3, 96, 128], [3, 80, 100]], num_items=[3, 2],
        num_classes=NUM_CLASSES), True)
    inputs, samples = batch['inputs'], batch['data_samples']
    ours = model.loss(inputs, samples)['loss_pt_logits'].item()

    head = model.student.bbox_head
    s_logits = head(model.student.extract_feat(inputs))[0]
    frozen = model.pretrained_teacher.model
    t_logits = frozen.bbox_head(frozen.extract_feat(inputs))[0]
    sizes = [x.shape[-2:] for x in s_logits]
    ignored = ignored_anchors(head, samples, sizes)
    assert ignored.any(), 'the test needs anchors in the ignore band'

    def rows(per_level):  # (N, anchors, K), the anchor order of the head
        return torch.cat([x.permute(0, 2, 3, 1).reshape(
            x.shape[0], -1, NUM_CLASSES) for x in per_level], 1).double()

    s, t = rows(s_logits), rows(t_logits)
    p, q = torch.sigmoid(s), torch.sigmoid(t)
    cross = -(q * p.log() + (1 - q) * (1 - p).log())  # KL + H(q)
    focus = (1 - torch.exp(-cross))**2
    base = -(0.5 * q * p.log() + 0.5 * (1 - q) * (1 - p).log())
    kept = (~ignored)[..., None].double()
    expected = 2.0**2 * (focus * base * kept).sum() / max(
        (q**1.8).sum().item(), 1.0)
    assert ours == pytest.approx(expected.item(), rel=1e-4)
    # without the mask the ignored anchors count
    unmasked = build(teacher).loss(inputs, samples)['loss_pt_logits']
    assert unmasked.item() > ours


def test_mask_ignored_anchors_is_checked_at_build(teacher):
    with pytest.raises(ValueError, match='masks the logit losses'):
        MODELS.build(dict(
            type='SSSDDistiller', mask_ignored_anchors=True,
            detector=tiny_detector_cfg(RETINANET, num_classes=NUM_CLASSES)))
    # FCOS has no anchors; FreeAnchor's own loss trains on bags of
    # anchors, not on get_targets' label weights: neither skips the band
    for name in ('fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
                 'free_anchor/freeanchor_r50_fpn_1x_coco.py'):
        logits = dict(
            type='SSSDDistiller',
            logit_distill_loss=dict(type='AdaptiveDistillLoss'),
            detector=tiny_detector_cfg(name, num_classes=NUM_CLASSES))
        with pytest.raises(TypeError, match='ignore band'):
            MODELS.build(dict(logits, mask_ignored_anchors=True))
        MODELS.build(logits)  # without the mask, its logits distil
