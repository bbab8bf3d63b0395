# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Unit tests of :class:`mmdet_sssd.models.teachers.LabelEncoderTeacher`
and its box geometry (:mod:`mmdet_sssd.models.teachers.box_grid`)."""
import math

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.structures import InstanceData

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.teachers import LabelEncoderTeacher
from mmdet_sssd.models.teachers.presets import TEACHER_PRESETS
from mmdet_sssd.models.teachers.box_grid import (box_mean_pool,
                                                 boxes_to_cells,
                                                 paint_box_geometry,
                                                 paint_box_positions,
                                                 paint_boxes)

register_all_modules()

C = 32
NUM_CLASSES = 5
STRIDES = (8, 16, 32, 64, 128)


def build_teacher(levels=3, seed=0, **kwargs):
    """A small teacher; ``kwargs`` that are rows of the preset table go to
    ``preset_overrides``."""
    overrides = dict(encoder_channels=(16, 32, 64), num_heads=4)
    overrides.update({k: kwargs.pop(k) for k in list(kwargs)
                      if k in TEACHER_PRESETS['lite']
                      and k != 'feat_channels'})
    cfg = dict(
        type='LabelEncoderTeacher',
        in_channels=C,
        num_levels=levels,
        num_classes=NUM_CLASSES,
        preset_overrides=overrides,
        feat_channels=32)
    cfg.update(kwargs)
    torch.manual_seed(seed)
    teacher = MODELS.build(cfg)
    assert isinstance(teacher, LabelEncoderTeacher)
    return teacher


def make_feats(num_imgs, input_size, num_levels, seed=0, requires_grad=False):
    """FPN-like maps of ceil-divided sizes."""
    g = torch.Generator().manual_seed(seed)
    feats = []
    for s in STRIDES[:num_levels]:
        size = (math.ceil(input_size[0] / s), math.ceil(input_size[1] / s))
        f = torch.randn(num_imgs, C, *size, generator=g)
        feats.append(f.requires_grad_(requires_grad))
    return feats


def make_sample(bboxes, labels, img_shape, batch_input_shape):
    sample = DetDataSample()
    sample.gt_instances = InstanceData(
        bboxes=torch.as_tensor(bboxes, dtype=torch.float32).reshape(-1, 4),
        labels=torch.as_tensor(labels, dtype=torch.long).reshape(-1))
    sample.set_metainfo(
        dict(img_shape=tuple(img_shape),
             batch_input_shape=tuple(batch_input_shape)))
    return sample


def rand_objects(n, img_shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    h, w = img_shape
    xy = torch.rand(n, 2, generator=g) * torch.tensor([w * 0.8, h * 0.8])
    wh = torch.rand(n, 2, generator=g) * torch.tensor([w * 0.5, h * 0.5]) + 1
    boxes = torch.cat([xy, xy + wh], 1)
    labels = torch.randint(0, NUM_CLASSES, (n, ), generator=g)
    return boxes, labels


def default_batch(input_size=(75, 99), img_shapes=((75, 99), (60, 80)),
                  num_objs=(3, 2), seed=0):
    samples = []
    for i, (shape, n) in enumerate(zip(img_shapes, num_objs)):
        boxes, labels = rand_objects(n, shape, seed=seed + i)
        samples.append(make_sample(boxes, labels, shape, input_size))
    return samples


def assert_finite_backward(teacher, feats, samples):
    outs = teacher(feats, samples)
    for o in outs:
        assert torch.isfinite(o).all()
    g = torch.Generator().manual_seed(123)
    loss = sum((o * torch.randn(o.shape, generator=g)).sum() for o in outs)
    loss.backward()
    for name, p in teacher.named_parameters():
        if p.grad is not None:
            assert torch.isfinite(p.grad).all(), name
    for f in feats:
        if f.grad is not None:
            assert torch.isfinite(f.grad).all()
    return outs


# ---------------------------------------------------------------- helpers


def naive_cells_1d(b1, b2, size):
    """Cells [lo, hi) of one axis: those the box overlaps with positive
    length; else the single cell nearest to the (degenerate/outside) box."""
    covered = [j for j in range(size) if min(j + 1, b2) - max(j, b1) > 0]
    if covered:
        return covered[0], covered[-1] + 1
    j = min(max(math.floor(b1), 0), size - 1)
    return j, j + 1


def test_boxes_to_cells_vs_naive_exact_scale():
    feat_size, input_size = (10, 12), (80, 96)  # stride 8: exact in fp32
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=g) * 140 - 20
    wh = torch.rand(200, 2, generator=g) * 50
    wh[:20] = 0  # zero-area boxes
    wh[20:30, 0] = 0  # zero-width boxes
    boxes = torch.cat([xy, xy + wh], 1)
    extra = torch.tensor([
        [0., 0., 96., 80.],  # whole input
        [-50., -50., -10., -10.],  # fully outside, top-left
        [200., 300., 400., 500.],  # fully outside, bottom-right
        [-10., 20., 30., 500.],  # partly outside
        [16., 16., 16., 16.],  # zero-area point on a cell corner
        [95.9, 79.9, 96., 80.],  # tiny box in the last cell
        [3., 3., 4., 4.],  # smaller than a cell
        [8., 8., 16., 16.],  # exactly one cell
    ])
    boxes = torch.cat([boxes, extra])
    cells = boxes_to_cells(boxes, feat_size, 8)
    assert cells.dtype == torch.long and cells.shape == boxes.shape
    h, w = feat_size
    for box, cell in zip(boxes.tolist(), cells.tolist()):
        x1, y1, x2, y2 = [v / 8 for v in box]
        assert (cell[0], cell[2]) == naive_cells_1d(x1, x2, w), box
        assert (cell[1], cell[3]) == naive_cells_1d(y1, y2, h), box
    assert cells[-1].tolist() == [1, 1, 2, 2]
    assert cells[-2].tolist() == [0, 0, 1, 1]
    assert cells[-3].tolist() == [11, 9, 12, 10]
    assert cells[-4].tolist() == [2, 2, 3, 3]
    assert cells[-6].tolist() == [11, 9, 12, 10]
    assert cells[-7].tolist() == [0, 0, 1, 1]
    assert cells[-8].tolist() == [0, 0, 12, 10]


@pytest.mark.parametrize('input_size', [(75, 99), (64, 64), (33, 17)])
def test_boxes_to_cells_cover_at_least_one_cell(input_size):
    g = torch.Generator().manual_seed(1)
    H, W = input_size
    xy = torch.rand(300, 2, generator=g) * torch.tensor([W * 1.6, H * 1.6]) \
        - torch.tensor([W * 0.3, H * 0.3])
    wh = torch.rand(300, 2, generator=g) * 20
    wh[::3] = 0
    boxes = torch.cat([xy, xy + wh], 1)
    for s in STRIDES:
        h, w = math.ceil(H / s), math.ceil(W / s)
        cells = boxes_to_cells(boxes, (h, w), s)
        x1, y1, x2, y2 = cells.unbind(1)
        assert (x1 >= 0).all() and (y1 >= 0).all()
        assert (x1 < x2).all() and (y1 < y2).all()
        assert (x2 <= w).all() and (y2 <= h).all()
        # a box inside the map with positive area covers its centre cell
        sx = sy = 1 / s
        cx = ((boxes[:, 0] + boxes[:, 2]) / 2 * sx).floor()
        cy = ((boxes[:, 1] + boxes[:, 3]) / 2 * sy).floor()
        inside = (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & \
            (boxes[:, 2] * sx < w) & (boxes[:, 3] * sy < h) & \
            (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        assert inside.sum() > 0
        assert ((x1 <= cx) & (cx < x2) & (y1 <= cy) & (cy < y2))[inside].all()


def rand_cells(num, num_imgs, h, w, seed=0):
    g = torch.Generator().manual_seed(seed)
    x1 = torch.randint(0, w, (num, ), generator=g)
    y1 = torch.randint(0, h, (num, ), generator=g)
    x2 = x1 + 1 + (torch.rand(num, generator=g) * (w - x1)).long().clamp(
        max=w - 1 - x1)
    y2 = y1 + 1 + (torch.rand(num, generator=g) * (h - y1)).long().clamp(
        max=h - 1 - y1)
    ids = torch.randint(0, num_imgs, (num, ), generator=g)
    cells = torch.stack([x1, y1, x2, y2], 1)
    assert ((cells[:, 2] <= w) & (cells[:, 3] <= h)).all()
    return ids, cells


def test_box_mean_pool_vs_naive():
    n, c, h, w = 3, 4, 9, 13
    g = torch.Generator().manual_seed(2)
    feat = torch.randn(n, c, h, w, generator=g)
    ids, cells = rand_cells(60, n, h, w, seed=3)
    cells = torch.cat([cells, torch.tensor([[0, 0, w, h], [w - 1, h - 1, w,
                                                            h]])])
    ids = torch.cat([ids, torch.tensor([1, 2])])
    out = box_mean_pool(feat, ids, cells)
    assert out.shape == (len(cells), c) and out.dtype == feat.dtype
    for t, (i, (x1, y1, x2, y2)) in enumerate(zip(ids.tolist(),
                                                   cells.tolist())):
        ref = feat[i, :, y1:y2, x1:x2].mean((1, 2))
        assert torch.allclose(out[t], ref, atol=1e-5), t
    # gradient: d mean / d feat = 1 / area inside the box
    feat_g = feat.clone().requires_grad_()
    box_mean_pool(feat_g, ids[:1], cells[:1]).sum().backward()
    x1, y1, x2, y2 = cells[0].tolist()
    expected = torch.zeros_like(feat)
    expected[ids[0], :, y1:y2, x1:x2] = 1.0 / ((x2 - x1) * (y2 - y1))
    assert torch.allclose(feat_g.grad, expected, atol=1e-7)
    # no boxes
    assert box_mean_pool(feat, ids[:0], cells[:0]).shape == (0, c)


def test_box_mean_pool_precision_on_large_maps():
    # A large offset over a large map: a fp32 integral image would lose the
    # digits of a single-cell box.
    g = torch.Generator().manual_seed(4)
    feat = torch.randn(1, 2, 128, 160, generator=g) + 1e4
    ids = torch.zeros(50, dtype=torch.long)
    _, cells = rand_cells(50, 1, 128, 160, seed=5)
    cells[:25, 2:] = cells[:25, :2] + 1  # one-cell boxes
    out = box_mean_pool(feat, ids, cells)
    for t, (x1, y1, x2, y2) in enumerate(cells.tolist()):
        ref = feat[0, :, y1:y2, x1:x2].double().mean((1, 2))
        assert torch.allclose(out[t].double(), ref, rtol=0, atol=2e-3), t
    assert torch.equal(out[:25], feat[0, :, cells[:25, 1], cells[:25, 0]].T)


def test_paint_boxes_vs_naive():
    n, c, h, w = 2, 3, 7, 11
    ids, cells = rand_cells(40, n, h, w, seed=6)
    g = torch.Generator().manual_seed(7)
    values = torch.randn(len(cells), c, generator=g)
    out = paint_boxes(values, ids, cells, n, (h, w))
    ref = torch.zeros(n, c, h, w)
    for v, i, (x1, y1, x2, y2) in zip(values, ids.tolist(), cells.tolist()):
        ref[i, :, y1:y2, x1:x2] += v[:, None, None]
    assert out.shape == (n, c, h, w)
    assert out.is_contiguous()
    assert torch.allclose(out, ref, atol=1e-5)
    # a box covering the whole map, and one in the last cell
    full = paint_boxes(torch.ones(1, c), torch.tensor([1]),
                       torch.tensor([[0, 0, w, h]]), n, (h, w))
    assert (full[1] == 1).all() and (full[0] == 0).all()
    last = paint_boxes(torch.full((1, c), 2.), torch.tensor([0]),
                       torch.tensor([[w - 1, h - 1, w, h]]), n, (h, w))
    assert last.sum() == 2 * c and (last[0, :, h - 1, w - 1] == 2).all()
    # nothing to paint
    empty = paint_boxes(values[:0], ids[:0], cells[:0], n, (h, w))
    assert empty.shape == (n, c, h, w) and (empty == 0).all()
    # gradient: each box's vector gets the sum of the upstream gradient
    # over its cells
    vals = values.clone().requires_grad_()
    up = torch.randn(n, c, h, w, generator=g)
    (paint_boxes(vals, ids, cells, n, (h, w)) * up).sum().backward()
    for t, (i, (x1, y1, x2, y2)) in enumerate(zip(ids.tolist(),
                                                   cells.tolist())):
        assert torch.allclose(vals.grad[t], up[i, :, y1:y2, x1:x2].sum(
            (1, 2)), atol=1e-4)


def test_paint_box_positions_vs_naive():
    # In input pixels on a (48, 64) input, stride 4: (12, 16) cells.
    h, w, input_size = 12, 16, (48, 64)
    boxes = torch.tensor([[8., 4., 40., 28.],  # 8 x 6 cells
                          [50., 30., 63., 47.],  # other image
                          [20., 20., 21., 21.],  # smaller than a cell
                          [24., 12., 36., 20.]])  # overlaps the first
    ids = torch.tensor([0, 1, 1, 0])
    cells = boxes_to_cells(boxes, (h, w), 4)
    out = paint_box_positions(boxes, ids, cells, 2, (h, w), 4)
    ref = torch.zeros(2, 2, h, w)
    for (x1, y1, x2, y2), i, (cx1, cy1, cx2, cy2) in zip(
            (boxes / 4).tolist(), ids.tolist(), cells.tolist()):
        half_w, half_h = max((x2 - x1) / 2, .5), max((y2 - y1) / 2, .5)
        for y in range(cy1, cy2):
            for x in range(cx1, cx2):
                ref[i, 0, y, x] += (x + .5 - (x1 + x2) / 2) / half_w
                ref[i, 1, y, x] += (y + .5 - (y1 + y2) / 2) / half_h
    assert torch.allclose(out, ref, atol=1e-5)
    # inside a lone box: symmetric around its centre, within (-1, 1)
    u = out[0, 0, 1, 2:10]
    assert torch.allclose(u, -u.flip(0)) and u.abs().max() < 1
    # tiny box: half a cell at least, so bounded
    assert out[1].abs().max() <= 2


def test_paint_box_geometry_vs_naive():
    h, w = 12, 16  # a (48, 64) input at stride 4
    boxes = torch.tensor([[8., 4., 40., 28.],
                          [50., 30., 63., 47.],  # other image
                          [20., 20., 20.1, 20.1],  # far below a stride
                          [24., 12., 36., 20.]])  # overlaps the first
    ids = torch.tensor([0, 1, 1, 0])
    cells = boxes_to_cells(boxes, (h, w), 4)
    out = paint_box_geometry(boxes, ids, cells, 2, (h, w), 4)
    ref = torch.zeros(2, 4, h, w)
    for (x1, y1, x2, y2), i, (cx1, cy1, cx2, cy2) in zip(
            (boxes / 4).tolist(), ids.tolist(), cells.tolist()):
        for y in range(cy1, cy2):
            for x in range(cx1, cx2):  # the prior of cell x sits at x
                ref[i, :, y, x] += torch.tensor([
                    x - (x1 + x2) / 2, y - (y1 + y2) / 2,
                    math.log(max(x2 - x1, 1 / 8)),
                    math.log(max(y2 - y1, 1 / 8))])
    assert torch.allclose(out, ref, atol=1e-5)
    # a lone box of 8 x 6 strides: the log-sides on every cell, the offset
    # a RetinaNet delta's numerator (0 at the centre's prior)
    assert torch.allclose(out[0, 2, 1, 2:10], torch.full((8, ), math.log(8)))
    assert out[0, 0, 1, 6] == 0 and out[0, 0, 1, 2] == -4
    assert out[1, 2].min() >= math.log(1 / 8) - 1e-6  # bounded
    assert (out[:, :, 11, 0] == 0).all()  # background


def test_box_position_option():
    input_size = (75, 99)
    plain = build_teacher(3)
    with_pos = build_teacher(3, box_position=True)
    assert plain.mapper_conv.conv.in_channels == 32
    assert with_pos.mapper_conv.conv.in_channels == 34
    samples = default_batch(input_size, num_objs=(3, 0))
    feats = make_feats(2, input_size, 3, requires_grad=True)
    outs = assert_finite_backward(with_pos, feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    # the position channels feed the mapper
    assert with_pos.mapper_conv.conv.weight.grad[:, 32:].abs().sum() > 0


def test_box_geometry_option():
    input_size = (75, 99)
    teacher = build_teacher(3, box_position=True, box_geometry=True)
    assert teacher.mapper_conv.conv.in_channels == 32 + 2 + 4
    samples = default_batch(input_size, num_objs=(3, 0))
    feats = make_feats(2, input_size, 3, requires_grad=True)
    outs = assert_finite_backward(teacher, feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    # each of the four geometry channels feeds the mapper
    grad = teacher.mapper_conv.conv.weight.grad[:, 34:]
    assert (grad.abs().sum((0, 2, 3)) > 0).all()


def test_box_class_option():
    # The one-hot class painted on the box cells reaches the mapper: with
    # everything else equal, another label changes the maps inside the box
    # only through these channels.
    input_size = (64, 64)
    teacher = build_teacher(3, box_class=True, use_context_box=False)
    assert teacher.mapper_conv.conv.in_channels == 32 + NUM_CLASSES
    box = [[8., 8., 40., 40.]]
    feats = make_feats(1, input_size, 3, requires_grad=True)
    samples = [make_sample(box, [1], input_size, input_size)]
    assert_finite_backward(teacher, feats, samples)
    grad = teacher.mapper_conv.conv.weight.grad[:, 32:]
    # only the channel of class 1 was painted
    assert grad[:, 1].abs().sum() > 0
    assert grad[:, [0, 2, 3, 4]].abs().sum() == 0


def test_student_residual_option():
    # The teacher's maps are the student's (detached) plus what it learns:
    # after init_weights they are the student's maps exactly, the output
    # norm's weight (0) still learns, and no gradient reaches the student
    # maps through the residual (appearance detached as for two-stage
    # students: then none at all).
    input_size = (75, 99)
    feats = make_feats(2, input_size, 3, requires_grad=True)
    samples = default_batch(input_size)
    plain = build_teacher(3, detach_appearance=True)
    teacher = build_teacher(3, detach_appearance=True, student_residual=True)
    plain.init_weights()
    teacher.init_weights()
    assert plain.out_conv.norm.weight.abs().sum() > 0
    assert teacher.out_conv.norm.weight.abs().sum() == 0
    outs = assert_finite_backward(teacher, feats, samples)
    for o, f in zip(outs, feats):
        assert torch.equal(o, f.detach())
    assert all(f.grad is None for f in feats)
    assert teacher.out_conv.norm.weight.grad.abs().sum() > 0
    # once the norm's weight has moved the teacher's own maps are added
    with torch.no_grad():
        teacher.out_conv.norm.weight.fill_(1.)
        outs = teacher(feats, samples)
    for o, f in zip(outs, feats):
        assert not torch.equal(o, f.detach())
    # without the zero init (the LGD preset's non-affine norm) the residual
    # is added to the same maps as without it
    lgd = build_teacher(3, student_residual=True, out_norm_affine=False)
    lgd.init_weights()
    ref = build_teacher(3, out_norm_affine=False)
    ref.init_weights()
    with torch.no_grad():
        for o, r, f in zip(lgd(feats, samples), ref(feats, samples), feats):
            torch.testing.assert_close(o, r + f)


def test_class_loss():
    input_size = (64, 64)
    teacher = build_teacher(3, class_loss_weight=0.5)
    boxes = [[8., 8., 40., 40.], [0., 30., 20., 64.]]
    samples = [make_sample(boxes, [1, 3], input_size, input_size),
               make_sample([[4., 4., 60., 20.]], [0], input_size,
                           input_size)]
    feats = make_feats(2, input_size, 3)
    maps = teacher(feats, samples)
    loss = teacher.class_loss(maps, samples)
    # by hand: box means of every level, one shared readout
    logits, labels = [], []
    for m, stride in zip(maps, STRIDES):
        for i, s in enumerate(samples):
            cells = boxes_to_cells(s.gt_instances.bboxes, m.shape[-2:],
                                   stride)
            for (x1, y1, x2, y2), label in zip(cells.tolist(),
                                               s.gt_instances.labels):
                logits.append(teacher.class_readout(
                    m[i, :, y1:y2, x1:x2].mean((1, 2))))
                labels.append(label)
    expected = 0.5 * torch.nn.functional.cross_entropy(
        torch.stack(logits), torch.stack(labels))
    assert torch.allclose(loss, expected, atol=1e-5)
    loss.backward()
    assert teacher.mapper_fc.weight.grad.abs().sum() > 0
    assert teacher.class_readout.weight.grad.abs().sum() > 0
    # no objects: a zero that still backpropagates
    empty = default_batch(input_size, ((64, 64), (64, 64)), (0, 0))
    zero = teacher.class_loss(teacher(feats, empty), empty)
    assert zero.item() == 0 and zero.requires_grad
    # off by default; negative weights are refused
    assert build_teacher(3).class_readout is None
    with pytest.raises(ValueError, match='class_loss_weight'):
        build_teacher(3, class_loss_weight=-1.)


# ---------------------------------------------------------------- module


@pytest.mark.parametrize('num_levels', [3, 5])
@pytest.mark.parametrize('use_context_box', [True, False])
def test_output_shapes_on_odd_sizes(num_levels, use_context_box):
    input_size = (75, 99)
    teacher = build_teacher(num_levels, use_context_box=use_context_box)
    feats = make_feats(2, input_size, num_levels)
    samples = default_batch(input_size)
    outs = teacher(feats, samples)
    assert isinstance(outs, tuple) and len(outs) == num_levels
    for f, o in zip(feats, outs):
        assert o.shape == f.shape and o.dtype == f.dtype
        assert torch.isfinite(o).all()
    expected = [(10, 13), (5, 7), (3, 4), (2, 2), (1, 1)][:num_levels]
    assert [tuple(o.shape[-2:]) for o in outs] == expected


def test_default_architecture_and_box_type_inputs():
    # The stock LGD widths, HorizontalBoxes from mmdet's demo inputs.
    torch.manual_seed(0)
    teacher = MODELS.build(
        dict(type='LabelEncoderTeacher', in_channels=C, num_levels=5,
             num_classes=NUM_CLASSES))
    assert teacher.global_encoder[-3].out_features == 1024
    assert teacher.out_conv.conv.out_channels == C
    assert teacher.mapper_fc.in_features == C
    data = demo_mm_inputs(
        batch_size=2, image_shapes=[(3, 75, 99), (3, 60, 90)],
        num_classes=NUM_CLASSES, use_box_type=True)
    samples = data['data_samples']
    for s in samples:
        s.set_metainfo(dict(batch_input_shape=(75, 99)))
    feats = make_feats(2, (75, 99), 5, requires_grad=True)
    outs = assert_finite_backward(teacher, feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    # same as plain tensors
    plain = [
        make_sample(s.gt_instances.bboxes.tensor, s.gt_instances.labels,
                    s.img_shape, (75, 99)) for s in samples
    ]
    with torch.no_grad():
        for a, b in zip(teacher(feats, plain), outs):
            assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize('use_context_box', [True, False])
def test_image_without_objects(use_context_box):
    input_size = (75, 99)
    teacher = build_teacher(3, use_context_box=use_context_box)
    # image 0 empty, image 1 with objects
    samples = default_batch(input_size, num_objs=(0, 4))
    feats = make_feats(2, input_size, 3, requires_grad=True)
    assert_finite_backward(teacher, feats, samples)
    # the whole batch empty
    samples = default_batch(input_size, num_objs=(0, 0))
    teacher.zero_grad()
    feats = make_feats(2, input_size, 3, requires_grad=True)
    outs = assert_finite_backward(teacher, feats, samples)
    if not use_context_box:
        # nothing to paint: the maps do not depend on the features
        other = make_feats(2, input_size, 3, seed=9)
        with torch.no_grad():
            for a, b in zip(teacher(other, samples), outs):
                assert torch.allclose(a, b)


@pytest.mark.parametrize('use_context_box', [True, False])
def test_degenerate_boxes(use_context_box):
    input_size = (75, 99)
    teacher = build_teacher(5, use_context_box=use_context_box)
    boxes0 = [
        [10., 10., 10., 10.],  # zero area
        [20., 30., 20., 50.],  # zero width
        [-30., -20., 40., 30.],  # partly outside
        [50., 40., 200., 300.],  # partly outside, bottom-right
        [300., 300., 400., 400.],  # fully outside
        [-50., -50., -10., -10.],  # fully outside, top-left
        [0., 0., 99., 75.],  # whole image
    ]
    samples = [
        make_sample(boxes0, [0, 1, 2, 3, 4, 0, 1], (75, 99), input_size),
        # image 1 smaller than the padded input; box outside the image but
        # inside the padding
        make_sample([[70., 50., 90., 70.], [5., 5., 5.5, 5.5]], [2, 4],
                    (48, 64), input_size),
    ]
    feats = make_feats(2, input_size, 5, requires_grad=True)
    outs = assert_finite_backward(teacher, feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]
    assert all(f.grad is not None and f.grad.abs().sum() > 0 for f in feats)


def test_many_objects():
    input_size = (64, 96)
    teacher = build_teacher(3)
    boxes, labels = rand_objects(300, input_size, seed=3)
    samples = [
        make_sample(boxes, labels, input_size, input_size),
        make_sample(*rand_objects(2, (40, 50), seed=4), (40, 50), input_size)
    ]
    feats = make_feats(2, input_size, 3, requires_grad=True)
    outs = assert_finite_backward(teacher, feats, samples)
    assert [o.shape for o in outs] == [f.shape for f in feats]


@pytest.mark.parametrize('detach', [False, True])
def test_gradient_to_student_feats(detach):
    input_size = (75, 99)
    teacher = build_teacher(3, detach_appearance=detach)
    feats = make_feats(2, input_size, 3, requires_grad=True)
    outs = teacher(feats, default_batch(input_size))
    # (not a mean of squares: the output GroupNorm makes that ~constant)
    g = torch.Generator().manual_seed(5)
    loss = sum((o * torch.randn(o.shape, generator=g)).sum() for o in outs)
    loss.backward()
    # the teacher's own parameters learn in both cases, the appearance conv
    # included
    assert teacher.out_conv.conv.weight.grad.abs().sum() > 0
    assert teacher.local_encoder[0].weight.grad.abs().sum() > 0
    assert teacher.appearance_conv.conv.weight.grad.abs().sum() > 0
    if detach:
        assert all(f.grad is None for f in feats)
    else:
        for f in feats:
            assert f.grad is not None
            assert torch.isfinite(f.grad).all() and f.grad.abs().sum() > 0


def test_detach_does_not_change_values():
    input_size = (75, 99)
    feats = make_feats(2, input_size, 3)
    samples = default_batch(input_size)
    a = build_teacher(3, detach_appearance=False)(feats, samples)
    b = build_teacher(3, detach_appearance=True)(feats, samples)
    for x, y in zip(a, b):
        assert torch.equal(x, y)


def _image0_outputs(teacher, feats, samples):
    with torch.no_grad():
        return [o[0] for o in teacher(feats, samples)]


@pytest.mark.parametrize('num_objs0', [3, 1, 0])
@pytest.mark.parametrize('use_context_box', [True, False])
@pytest.mark.parametrize('relation_residual', [True, False])
def test_objects_attend_only_within_their_image(use_context_box,
                                                relation_residual, num_objs0):
    input_size = (75, 99)
    teacher = build_teacher(
        3, use_context_box=use_context_box,
        relation_residual=relation_residual)
    feats = make_feats(2, input_size, 3)
    boxes0, labels0 = rand_objects(num_objs0, (75, 99), seed=10)
    s0 = make_sample(boxes0, labels0, (75, 99), input_size)
    ref = _image0_outputs(teacher, feats, [s0, make_sample(
        *rand_objects(2, (60, 80), seed=11), (60, 80), input_size)])
    # image 0 alone: same result as in the batch
    alone = _image0_outputs(teacher, [f[:1] for f in feats], [s0])
    for a, r in zip(alone, ref):
        assert torch.allclose(a, r, atol=1e-5)
    variants = [
        rand_objects(2, (60, 80), seed=12),  # other boxes and labels
        rand_objects(7, (60, 80), seed=13),  # more objects than image 0
        rand_objects(0, (60, 80), seed=14),  # none
        rand_objects(40, (60, 80), seed=15),
    ]
    for boxes1, labels1 in variants:
        s1 = make_sample(boxes1, labels1, (60, 80), input_size)
        out = _image0_outputs(teacher, feats, [s0, s1])
        for o, r in zip(out, ref):
            assert torch.allclose(o, r, atol=1e-5)
        # image 1's features do not matter either
        other = [
            torch.cat([f[:1], torch.randn_like(f[1:]) * 5]) for f in feats
        ]
        out = _image0_outputs(teacher, other, [s0, s1])
        for o, r in zip(out, ref):
            assert torch.allclose(o, r, atol=1e-5)
    # ... and with the images in the other order (image 0 second)
    s1 = make_sample(*rand_objects(5, (60, 80), seed=16), (60, 80), input_size)
    with torch.no_grad():
        out = teacher([f.flip(0) for f in feats], [s1, s0])
    for o, r in zip(out, ref):
        assert torch.allclose(o[1], r, atol=1e-5)
    # sanity: image 0's own objects do change its output
    s0b = make_sample(*rand_objects(4, (75, 99), seed=17), (75, 99),
                      input_size)
    out = _image0_outputs(teacher, feats, [s0b, s1])
    assert not all(torch.allclose(o, r, atol=1e-3) for o, r in zip(out, ref))


def test_labels_matter():
    input_size = (75, 99)
    teacher = build_teacher(3)
    feats = make_feats(1, input_size, 3)
    boxes, labels = rand_objects(3, input_size, seed=20)
    with torch.no_grad():
        a = teacher(feats, [make_sample(boxes, labels, input_size,
                                        input_size)])
        b = teacher(feats, [make_sample(boxes, (labels + 1) % NUM_CLASSES,
                                        input_size, input_size)])
    assert not torch.allclose(a[0], b[0], atol=1e-4)


@pytest.mark.parametrize('bad_label', [NUM_CLASSES, 100, -1])
def test_out_of_range_label(bad_label):
    input_size = (64, 64)
    teacher = build_teacher(3)
    feats = make_feats(2, input_size, 3)
    samples = [
        make_sample([[1., 2., 30., 40.]], [0], input_size, input_size),
        make_sample([[1., 2., 30., 40.], [5., 5., 9., 9.]], [1, bad_label],
                    input_size, input_size),
    ]
    with pytest.raises(ValueError, match='LabelEncoderTeacher'):
        teacher(feats, samples)


def test_bad_config_and_inputs():
    with pytest.raises(ValueError, match='LabelEncoderTeacher'):
        build_teacher(3, in_channels=30, num_heads=4)  # not divisible
    for key in ('in_channels', 'num_levels', 'num_classes', 'feat_channels'):
        with pytest.raises(ValueError, match=key):
            build_teacher(3, **{key: 0})
    teacher = build_teacher(3)
    samples = default_batch((64, 64), img_shapes=((64, 64), (64, 64)))
    with pytest.raises(ValueError, match='LabelEncoderTeacher'):
        teacher(make_feats(2, (64, 64), 5), samples)  # 5 maps, expects 3
    feats = make_feats(2, (64, 64), 3)
    feats[1] = feats[1][:, :16]
    with pytest.raises(ValueError, match='LabelEncoderTeacher'):
        teacher(feats, samples)
