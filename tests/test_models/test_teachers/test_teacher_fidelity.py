# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The label teacher against LGD's reference: boxes on the stride grid of
every level, and the ``lgd`` preset module for module."""
import math

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.utils import register_all_modules
from mmengine.structures import InstanceData

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.teachers import LabelEncoderTeacher
from mmdet_sssd.models.teachers.box_grid import boxes_to_cells, infer_strides
from mmdet_sssd.models.teachers.spatial_transformer import SpatialTransformer

register_all_modules()
STRIDES = (8, 16, 32, 64, 128)


def sample(boxes, labels, img_shape, batch_input_shape):
    s = DetDataSample()
    s.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.tensor(labels, dtype=torch.long))
    s.set_metainfo(dict(img_shape=img_shape,
                        batch_input_shape=batch_input_shape))
    return s


def level_sizes(input_size):
    """FPN sizes: P3 = ceil(H / 8), then stride-2 convs (ceil) for P4-P7,
    as mmdet's ResNet + FPN(add_extra_convs) give."""
    sizes, (h, w) = [], input_size
    for _ in STRIDES:
        h, w = math.ceil(h / 2) if sizes else math.ceil(h / 8), \
            math.ceil(w / 2) if sizes else math.ceil(w / 8)
        sizes.append((h, w))
    return sizes


def grid_cells(box, stride, size):
    """Cells ``j`` whose stride-grid span ``[j s, (j + 1) s)`` overlaps the
    box with positive length, per axis; the nearest cell if none."""
    out = []
    for lo, hi, n in ((box[0], box[2], size[1]), (box[1], box[3], size[0])):
        cells = [j for j in range(n)
                 if min((j + 1) * stride, hi) - max(j * stride, lo) > 0]
        if not cells:
            cells = [min(max(math.floor(lo / stride), 0), n - 1)]
        out.append(set(cells))
    return out  # xs, ys


BOXES = [[10., 500., 300., 700.], [600., 20., 1340., 790.],
         [64., 64., 65., 65.], [1000., 300., 1200., 420.]]


@pytest.mark.parametrize('input_size', [(800, 1344), (75, 99)])
def test_stride_grid_cells_paint_and_pool(input_size):
    sizes = level_sizes(input_size)
    if input_size == (800, 1344):
        assert sizes[-1] == (7, 11)  # not 800/128 x 1344/128
    assert infer_strides(sizes, input_size) == [(float(s), float(s))
                                                for s in STRIDES]
    scale = min(input_size[0] / 800, input_size[1] / 1344)
    boxes = torch.tensor(BOXES) * scale
    for stride, size in zip(STRIDES, sizes):
        cells = boxes_to_cells(boxes, size, stride)
        for box, (x1, y1, x2, y2) in zip(boxes.tolist(), cells.tolist()):
            xs, ys = grid_cells(box, stride, size)
            assert set(range(x1, x2)) == xs and set(range(y1, y2)) == ys
    if input_size == (800, 1344):
        # the example: y in [500, 700] on P7 is rows 3-5
        assert boxes_to_cells(boxes[:1], sizes[-1], 128)[0, 1::2].tolist() \
            == [3, 6]

    # Through the teacher: one object per image, no context box. What the
    # mapper conv gets is painted exactly on those cells, and the appearance
    # query of the relation is the mean of exactly those cells.
    teacher = MODELS.build(
        dict(type='LabelEncoderTeacher', in_channels=16, num_classes=3,
             feat_channels=16, use_context_box=False, strides=STRIDES,
             preset_overrides=dict(num_heads=4, appearance_fc=False)))
    painted, appearance, queries = [], [], []
    teacher.mapper_conv.register_forward_hook(
        lambda m, args, out: painted.append(args[0]))
    teacher.appearance_conv.register_forward_hook(
        lambda m, args, out: appearance.append(out))
    teacher.relation.register_forward_hook(
        lambda m, args, out: queries.append(args[0]))
    torch.manual_seed(0)
    feats = [torch.randn(len(BOXES), 16, *size) for size in sizes]
    samples = [sample([b], [i % 3], input_size, input_size)
               for i, b in enumerate(boxes.tolist())]
    with torch.no_grad():
        teacher(feats, samples)
    query = queries[0].view(len(BOXES), len(STRIDES), 16)
    for lvl, (stride, size) in enumerate(zip(STRIDES, sizes)):
        for i, box in enumerate(boxes.tolist()):
            xs, ys = grid_cells(box, stride, size)
            rows = slice(min(ys), max(ys) + 1)
            cols = slice(min(xs), max(xs) + 1)
            expected = torch.zeros(size, dtype=torch.bool)
            expected[rows, cols] = True
            assert torch.equal(painted[lvl][i].abs().sum(0) > 0, expected)
            mean = appearance[lvl][i, :, rows, cols].mean((1, 2))
            assert torch.allclose(query[i, lvl], mean, atol=1e-5)


def test_distiller_gives_the_head_strides():
    from mmdet_sssd.testing import tiny_detector_cfg
    for name, strides in [
        ('retinanet/retinanet_r50_fpn_1x_coco.py', STRIDES),
        ('faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', (4, 8, 16, 32, 64)),
    ]:
        model = MODELS.build(
            dict(type='SSSDDistiller', detector=tiny_detector_cfg(name)))
        assert model.teacher.strides == [(float(s), float(s))
                                         for s in strides]


# Parameter counts of LGD's reference teacher for RetinaNet (80 classes,
# 256 channels; descriptor length 84), per component, from its layers
# (docs/lgd_fidelity.md): Linear/Conv1d a->b: ab + b; Conv3x3: 9ab + b.
LGD_COUNTS = {
    'descriptor_stn': 2_615_376,  # 84->64->128->1024->512->256->84*84
    'feature_stn': 1_853_376,  # the same on the 64-d features
    'set_encoder': 424_640,  # 84->64->128->1024, 1088->256
    'kv_proj': 65_792,  # Linear 256->256 (+ non-affine LN)
    'appearance_conv': 590_080,  # Conv3x3 256->256 (+ non-affine GN)
    'relation': 263_168,  # MultiheadAttention(256, 8)
    'mapper_fc': 65_792,  # objects
    'context_fc': 65_792,  # context, its own Linear
    'mapper_conv': 590_080,  # Conv3x3 on the painted maps
    'refinement': 1_770_240,  # 3 x Conv3x3 (+ non-affine GN)
}


def count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def test_lgd_preset_parameters_match_the_reference():
    teacher = MODELS.build(
        dict(type='LabelEncoderTeacher', preset='lgd', in_channels=256,
             num_levels=5, num_classes=80))
    got = {
        'descriptor_stn': count(teacher.descriptor_stn),
        'feature_stn': count(teacher.feature_stn),
        'set_encoder': count(teacher.local_encoder, teacher.global_encoder,
                             teacher.label_proj),
        'kv_proj': count(teacher.kv_proj),
        'appearance_conv': count(teacher.appearance_conv),
        'relation': count(teacher.relation),
        'mapper_fc': count(teacher.mapper_fc),
        'context_fc': count(teacher.context_fc),
        'mapper_conv': count(teacher.mapper_conv),
        'refinement': count(teacher.refine, teacher.out_conv),
    }
    assert got == LGD_COUNTS
    assert count(teacher) == sum(LGD_COUNTS.values()) == 8_304_336
    # no part outside the reference's
    assert teacher.appearance_fc is None and teacher.class_readout is None
    # non-affine norms where the reference's are
    norms = [m for m in teacher.modules()
             if isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm))]
    assert norms and not any(m.weight is not None for m in norms)
    # the adapter of LGD's configs: 3 x Conv3x3 256, ReLU between
    from mmdet_sssd.testing import tiny_detector_cfg
    detector = tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py')
    detector.neck.out_channels = detector.bbox_head.in_channels = 256
    detector.bbox_head.feat_channels = 256
    model = MODELS.build(
        dict(type='SSSDDistiller', detector=detector,
             teacher=dict(preset='lgd'),
             adapter=dict(num_convs=3, kernel_size=3)))
    assert count(model.label_term.adapter) == 1_770_240
    assert count(model.teacher) == 8_304_336


def test_lite_preset_is_the_former_default():
    lite = MODELS.build(dict(type='LabelEncoderTeacher'))
    assert lite.preset == 'lite' and lite.descriptor_stn is None
    assert lite.out_conv.conv.in_channels == 64
    assert count(lite) == 1_193_280  # the teacher's size before presets


def test_lgd_preset_forward_on_odd_sizes():
    input_size = (75, 99)
    teacher = MODELS.build(
        dict(type='LabelEncoderTeacher', preset='lgd', in_channels=32,
             num_levels=5, num_classes=5,
             preset_overrides=dict(num_heads=4)))
    sizes = level_sizes(input_size)
    torch.manual_seed(1)
    feats = [torch.randn(2, 32, *s, requires_grad=True) for s in sizes]
    samples = [sample([[3., 4., 50., 60.], [40., 10., 98., 30.]], [0, 4],
                      input_size, input_size),
               sample([[10., 10., 20., 20.]], [2], (60, 80), input_size)]
    outs = teacher(feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    for o in outs:
        assert torch.isfinite(o).all()
        if o[0].numel() > 32:
            # LGD's output GN(1) is non-affine: each image's map is
            # standardised over (C, H, W)
            flat = o.flatten(1)
            assert torch.allclose(flat.mean(1), torch.zeros(2), atol=1e-4)
            assert torch.allclose(flat.var(1, unbiased=False),
                                  torch.ones(2), atol=1e-2)
    sum((o * o.detach().sign()).sum() for o in outs).backward()
    assert all(f.grad is not None and torch.isfinite(f.grad).all()
               for f in feats)
    for name, p in teacher.named_parameters():
        assert p.grad is not None, name
    # the descriptor: everything in [-1, 1], one-hot +1/-1, context -1
    _, descriptors, _, is_context = teacher._objects(samples, 'cpu')
    assert descriptors.abs().max() <= 1
    assert set(descriptors[:, 4:].unique().tolist()) == {-1., 1.}
    assert (descriptors[is_context, 4:] == -1).all()
    # the context box is the padded input
    assert torch.allclose(descriptors[is_context, :4],
                          torch.tensor([-1., -1., 1., 1.]))


def test_preset_options_and_errors():
    lgd = MODELS.build(
        dict(type='LabelEncoderTeacher', preset='lgd', in_channels=32,
             num_classes=5,
             preset_overrides=dict(num_heads=4, spatial_transformers=False,
                                   relation_residual=True)))
    assert lgd.descriptor_stn is None and lgd.relation_residual
    assert lgd.out_conv.conv.in_channels == 32  # feat_channels = C
    with pytest.raises(ValueError, match='preset'):
        LabelEncoderTeacher(preset='LGD')
    with pytest.raises(ValueError, match='appearance_fc'):
        LabelEncoderTeacher(preset='lgd', feat_channels=64)
    with pytest.raises(ValueError, match='context_extent'):
        LabelEncoderTeacher(preset_overrides=dict(context_extent='batch'))
    with pytest.raises(ValueError, match='unknown preset_overrides'):
        LabelEncoderTeacher(preset_overrides=dict(feat_channels=32))
    with pytest.raises(ValueError, match='unknown preset_overrides'):
        LabelEncoderTeacher(preset_overrides=dict(box_class=True))
    with pytest.raises(ValueError, match='strides'):
        LabelEncoderTeacher(num_levels=5, strides=(8, 16))


def test_spatial_transformer_is_per_object():
    stn = SpatialTransformer(6)
    x = torch.randn(4, 6)
    out = stn(x)
    assert out.shape == (4, 6)
    # each object's output depends on its own vector only
    for i in range(4):
        alone = stn(x[i:i + 1])
        assert torch.allclose(alone[0], out[i], atol=1e-6)


@pytest.mark.parametrize('preset', ['lgd', 'lite'])
def test_attention_as_the_reference_computes_it(preset):
    """LGD's reference runs one attention per level over all T objects of
    the batch (context boxes included) in one sequence, with a (T, T) mask
    that hides other images' objects; the teacher pads each image's objects
    into a row of its own. Both must give the same output and the same
    weight of each object on its own label."""
    torch.manual_seed(0)
    teacher = LabelEncoderTeacher(in_channels=32, num_levels=3,
                                  num_classes=4, preset=preset,
                                  strides=(8, 16, 32)).eval()
    samples = [
        sample([[2., 3., 30., 40.], [20., 10., 60., 50.], [0., 0., 8., 8.]],
               [0, 3, 1], (64, 60), (64, 64)),
        sample([[5., 5., 50., 30.]], [2], (64, 64), (64, 64)),
    ]
    feats = [torch.randn(2, 32, 64 // s, 64 // s) for s in (8, 16, 32)]
    with torch.no_grad():
        state = teacher.relate(feats, samples, need_weights=True)
        img_ids = state['img_ids']
        mask = img_ids[:, None] != img_ids[None, :]
        kv = teacher.kv_proj(state['label_embeddings'])[None]
        for level in range(3):
            out, weights = teacher.relation(
                state['appearance'][None, :, level], kv, kv, attn_mask=mask)
            if teacher.relation_residual:
                out = out + state['label_embeddings'][None]
            assert torch.allclose(out[0], state['related'][:, level],
                                  atol=1e-5)
            assert torch.allclose(weights[0].diagonal(),
                                  state['own_weight'][:, level], atol=1e-6)
            # nothing of the other image's objects
            assert (weights[0][mask] == 0).all()
