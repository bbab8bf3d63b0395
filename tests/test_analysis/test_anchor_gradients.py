"""Anchor groups of a real RetinaNet head (mmdet's stock config, shrunk):
the detection loss's own gradient on the logits tells whether each
(anchor, class) entry landed in its group."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules

import mmdet_sssd  # noqa: F401
from mmdet_sssd.analysis import (GROUPS, GroupSums, anchor_groups, entries,
                                 level_index)
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()
NUM_CLASSES = 4


def head_and_batch(name='retinanet/retinanet_r50_fpn_1x_coco.py'):
    torch.manual_seed(0)
    model = MODELS.build(tiny_detector_cfg(name, num_classes=NUM_CLASSES))
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]],
                            num_items=[3, 2], num_classes=NUM_CLASSES)
    data = model.data_preprocessor(packed, True)
    return model, data


def test_groups_match_what_the_detection_loss_does_on_them():
    model, data = head_and_batch()
    head, samples = model.bbox_head, data['data_samples']
    # the second image as if padded to the batch: its anchors beyond
    # 80 x 100 are never assigned
    samples[1].set_metainfo(dict(pad_shape=(80, 100)))
    cls_scores, bbox_preds = head(model.extract_feat(data['inputs']))
    groups = anchor_groups(head, cls_scores, samples)
    num_anchors = sum(x.shape[-2] * x.shape[-1] for x in cls_scores) * \
        head.num_base_priors
    assert groups.shape == (2, num_anchors, NUM_CLASSES)
    # an anchor's entries share its group, but for the own class
    own = (groups == 0).sum(2)
    assert set(own.unique().tolist()) <= {0, 1}
    assert ((groups == 1).sum(2) == own * (NUM_CLASSES - 1)).all()
    assert own.sum() > 0
    assert all((groups == g).any() for g in (2, 3, 4))
    assert not (groups[0] == 4).any()  # the first image fills the batch
    losses = head.loss_by_feat(cls_scores, bbox_preds,
                               [s.gt_instances for s in samples],
                               [s.metainfo for s in samples])
    grad = entries(torch.autograd.grad(sum(losses['loss_cls']), cls_scores),
                   NUM_CLASSES)
    # the focal loss raises the own class, lowers the others and the
    # background, and sees neither the ignored anchors nor the padding
    assert (grad[groups == 0] < 0).all()
    assert (grad[groups == 1] > 0).all() and (grad[groups == 3] > 0).all()
    assert (grad[groups == 2] == 0).all() and (grad[groups == 4] == 0).all()

    sums = GroupSums()
    sums.add(groups, -grad, grad)  # a term pulling exactly against it
    rows = {row['group']: row for row in sums.table()}
    assert list(rows) == list(GROUPS)
    for key in ('entries', 'a_share', 'b_share'):
        assert sum(r[key] for r in rows.values()
                   if r[key] == r[key]) == pytest.approx(1)
    assert rows['background']['cosine'] == pytest.approx(-1)
    assert rows['ignored by the assigner']['b_share'] == 0
    assert rows['outside the image or on padding']['b_share'] == 0
    assert rows['positive, its own class']['b_mean'] < 0
    assert rows['positive, its own class']['entries'] == pytest.approx(
        (groups == 0).float().mean().item())

    # by FPN level: each level's entries in entries' order, its shares
    levels = level_index(cls_scores, NUM_CLASSES)
    assert levels.shape == groups.shape
    sizes = [x.numel() for x in cls_scores]
    assert torch.bincount(levels.flatten()).tolist() == sizes
    assert (levels.flatten(1).diff(dim=1) >= 0).all()  # P3 first
    names = [f'level {i}' for i in range(len(cls_scores))]
    by_level = GroupSums(names)
    by_level.add(levels, grad.abs(), grad)
    rows = {row['group']: row for row in by_level.table()}
    assert list(rows) == names
    for i, x in enumerate(cls_scores):
        assert rows[names[i]]['entries'] == pytest.approx(
            sizes[i] / sum(sizes))
        own = grad[(levels == i)]
        assert rows[names[i]]['b_share'] == pytest.approx(
            (own**2).sum().item() / (grad**2).sum().item(), rel=1e-5)
    # merged from the sums by level and group: the same as added directly
    cross = GroupSums([f'{n}: {g}' for n in names for g in GROUPS])
    cross.add(levels * len(GROUPS) + groups, grad.abs(), grad)
    index = range(len(cross.names))
    torch.testing.assert_close(
        cross.merged([i // len(GROUPS) for i in index], names).sums,
        by_level.sums)
    direct = GroupSums()
    direct.add(groups, grad.abs(), grad)
    merged = cross.merged([i % len(GROUPS) for i in index], GROUPS)
    assert merged.names == GROUPS
    torch.testing.assert_close(merged.sums, direct.sums)


@pytest.mark.parametrize('name,head', [
    ('fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', 'FCOSHead'),
    # an anchor head whose loss never reads get_targets' labels
    ('free_anchor/freeanchor_r50_fpn_1x_coco.py', 'FreeAnchorRetinaHead')])
def test_a_head_not_trained_on_anchor_targets_is_refused(name, head):
    model, data = head_and_batch(name)
    cls_scores = model.bbox_head(model.extract_feat(data['inputs']))[0]
    with pytest.raises(TypeError, match=head):
        anchor_groups(model.bbox_head, cls_scores, data['data_samples'])
