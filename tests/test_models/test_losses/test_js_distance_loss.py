# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Unit tests of :class:`mmdet_sssd.models.losses.JSDistanceLoss`."""
import math

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.losses.js_distance_loss import JSDistanceLoss

register_all_modules()

LN2 = math.log(2.0)


def naive_div(pred, target, axis='spatial', tau=1.0):
    """D_JS of each distribution from the textbook formula, in float64.

    Returns (N, C) for ``'spatial'`` and (N, H, W) for ``'channel'``.
    """
    x = pred.double() / tau
    y = target.double() / tau
    n, c, h, w = x.shape
    if axis == 'spatial':
        x, y, dim = x.reshape(n, c, h * w), y.reshape(n, c, h * w), 2
    else:
        dim = 1
    p = torch.softmax(x, dim)
    q = torch.softmax(y, dim)
    m = (p + q) / 2
    kl_pm = (p * torch.log(p / m)).sum(dim)
    kl_qm = (q * torch.log(q / m)).sum(dim)
    return 0.5 * (kl_pm + kl_qm)


def naive_js(pred, target, axis='spatial', tau=1.0, eps=1e-8):
    """sqrt(JS + eps) per distribution, in float64.

    Returns (N, C) for ``'spatial'`` and (N, H, W) for ``'channel'``.
    """
    return torch.sqrt(naive_div(pred, target, axis, tau) + eps)


def rand_pair(shape=(2, 3, 4, 5), scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * scale,
            torch.randn(shape, generator=g) * scale)


def test_build_from_registry():
    loss = MODELS.build(
        dict(type='JSDistanceLoss', axis='channel', tau=2.0, loss_weight=3.))
    assert isinstance(loss, JSDistanceLoss)
    assert (loss.axis, loss.tau, loss.loss_weight) == ('channel', 2.0, 3.0)
    # defaults
    loss = MODELS.build(dict(type='JSDistanceLoss'))
    assert (loss.axis, loss.tau, loss.eps, loss.reduction, loss.loss_weight,
            loss.sqrt_per) == ('spatial', 1.0, 1e-8, 'mean', 1.0,
                               'distribution')
    loss = MODELS.build(dict(type='JSDistanceLoss', sqrt_per='level'))
    assert loss.sqrt_per == 'level'


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_identical_inputs_give_zero(axis):
    x, _ = rand_pair((2, 4, 6, 7), scale=3.0)
    loss = JSDistanceLoss(axis=axis, reduction='none')
    out = loss(x, x.clone())
    # sqrt(0 + eps) = 1e-4 exactly up to rounding
    assert out.abs().max().item() < 1e-3
    assert torch.allclose(out, torch.full_like(out, 1e-4), atol=2e-4)
    assert JSDistanceLoss(axis=axis)(x, x.clone()).item() < 1e-3


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_symmetric(axis):
    x, y = rand_pair((2, 3, 5, 4), scale=2.0, seed=1)
    loss = JSDistanceLoss(axis=axis, reduction='none')
    assert torch.allclose(loss(x, y), loss(y, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_bounded_by_sqrt_ln2(axis):
    bound = math.sqrt(LN2 + 1e-8)
    # One-hot-like maps with huge logits at different places: the two
    # distributions have (numerically) disjoint supports, JS = ln 2.
    n, c, h, w = 2, 4, 3, 3
    x = torch.full((n, c, h, w), -1e4)
    y = torch.full((n, c, h, w), -1e4)
    if axis == 'spatial':
        x[:, :, 0, 0] = 1e4
        y[:, :, 2, 2] = 1e4
    else:
        x[:, 0] = 1e4
        y[:, 3] = 1e4
    loss = JSDistanceLoss(axis=axis, reduction='none')
    out = loss(x, y)
    assert torch.isfinite(out).all()
    assert out.max().item() <= bound + 1e-6
    assert torch.allclose(out, torch.full_like(out, math.sqrt(LN2)),
                          atol=1e-5)
    # random inputs of all scales stay in [0, sqrt(ln 2)]
    for scale in (1e-3, 1.0, 30.0, 1e3, 1e6):
        a, b = rand_pair((2, 3, 4, 4), scale=scale, seed=int(math.log10(
            scale) + 10))
        out = loss(a, b)
        assert torch.isfinite(out).all()
        assert out.min().item() >= 0
        assert out.max().item() <= bound + 1e-6


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_finite_gradient_for_equal_inputs(axis):
    x, _ = rand_pair((2, 3, 4, 4))
    pred = x.clone().requires_grad_()
    loss = JSDistanceLoss(axis=axis)(pred, x.clone())
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    # at the minimum the gradient vanishes
    assert pred.grad.abs().max().item() < 1e-4


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (1, 1, 1, 1), (3, 5, 1, 7)])
def test_matches_naive_formula(axis, shape):
    x, y = rand_pair(shape, scale=2.0, seed=sum(shape))
    out = JSDistanceLoss(axis=axis, reduction='none')(x, y)
    ref = naive_js(x, y, axis=axis)
    n, c, h, w = shape
    expected_shape = (n, c) if axis == 'spatial' else (n, h, w)
    assert out.shape == expected_shape
    assert out.dtype == torch.float32
    assert torch.allclose(out.double(), ref, rtol=1e-4, atol=1e-5)


def test_spatial_and_channel_axes_differ():
    x, y = rand_pair((2, 3, 4, 5), seed=3)
    spatial = JSDistanceLoss(axis='spatial', reduction='none')(x, y)
    channel = JSDistanceLoss(axis='channel', reduction='none')(x, y)
    # spatial == channel on the transposed problem
    xt = x.flatten(2).transpose(1, 2)[..., None]  # (N, HW, C, 1)
    yt = y.flatten(2).transpose(1, 2)[..., None]
    channel_t = JSDistanceLoss(axis='channel', reduction='none')(xt, yt)
    assert torch.allclose(channel_t[..., 0], spatial, atol=1e-6)
    assert channel.shape == (2, 4, 5)


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_temperature(axis):
    x, y = rand_pair((2, 3, 4, 5), scale=4.0, seed=5)
    out = JSDistanceLoss(axis=axis, tau=2.0, reduction='none')(x, y)
    assert torch.allclose(
        out.double(), naive_js(x / 2, y / 2, axis=axis), rtol=1e-4, atol=1e-5)
    assert torch.allclose(
        out.double(), naive_js(x, y, axis=axis, tau=2.0), rtol=1e-4,
        atol=1e-5)
    # a higher temperature softens both distributions: a smaller distance
    plain = JSDistanceLoss(axis=axis, tau=1.0, reduction='none')(x, y)
    assert out.mean() < plain.mean()


def test_reductions():
    x, y = rand_pair((2, 3, 4, 5), seed=7)
    ref = naive_js(x, y).float()  # (2, 3)
    none = JSDistanceLoss(reduction='none')(x, y)
    assert torch.allclose(none, ref, atol=1e-5)
    assert torch.allclose(
        JSDistanceLoss(reduction='sum')(x, y), ref.sum(), atol=1e-5)
    assert torch.allclose(
        JSDistanceLoss(reduction='mean')(x, y), ref.mean(), atol=1e-6)
    assert JSDistanceLoss(reduction='mean')(x, y).dim() == 0
    # reduction_override wins over the configured reduction
    loss = JSDistanceLoss(reduction='mean')
    assert torch.allclose(
        loss(x, y, reduction_override='sum'), ref.sum(), atol=1e-5)
    assert loss(x, y, reduction_override='none').shape == (2, 3)
    assert torch.allclose(
        JSDistanceLoss(reduction='none')(x, y, reduction_override='mean'),
        ref.mean(), atol=1e-6)
    assert loss.reduction == 'mean'  # unchanged
    with pytest.raises(AssertionError):
        loss(x, y, reduction_override='max')


def test_weight_and_avg_factor():
    x, y = rand_pair((2, 3, 4, 5), seed=8)
    ref = naive_js(x, y).float()  # (2, 3)
    weight = torch.tensor([[1., 0., 2.], [0.5, 3., 0.]])
    loss = JSDistanceLoss()
    assert torch.allclose(
        loss(x, y, weight, reduction_override='none'), ref * weight)
    assert torch.allclose(
        loss(x, y, weight, reduction_override='sum'), (ref * weight).sum(),
        atol=1e-5)
    assert torch.allclose(loss(x, y, weight), (ref * weight).mean(),
                          atol=1e-6)
    assert torch.allclose(
        loss(x, y, weight, avg_factor=4.0), (ref * weight).sum() / 4.0,
        atol=1e-6)
    assert torch.allclose(
        loss(x, y, avg_factor=2.5), ref.sum() / 2.5, atol=1e-6)
    # broadcastable weights: one per image
    per_img = torch.tensor([[2.], [0.]])
    assert torch.allclose(
        loss(x, y, per_img, reduction_override='none'), ref * per_img)
    # 'channel': one weight per location
    ref_c = naive_js(x, y, axis='channel').float()  # (2, 4, 5)
    w_c = torch.rand(2, 4, 5, generator=torch.Generator().manual_seed(0))
    loss_c = JSDistanceLoss(axis='channel')
    assert torch.allclose(
        loss_c(x, y, w_c, avg_factor=7.0), (ref_c * w_c).sum() / 7.0,
        atol=1e-6)
    # avg_factor with reduction='sum' is an error in mmdet's weighted_loss
    with pytest.raises(ValueError):
        loss(x, y, avg_factor=2.0, reduction_override='sum')


def test_loss_weight():
    x, y = rand_pair((2, 3, 4, 5), seed=9)
    base = JSDistanceLoss()(x, y)
    assert torch.allclose(JSDistanceLoss(loss_weight=2.5)(x, y), base * 2.5)
    assert JSDistanceLoss(loss_weight=0.)(x, y).item() == 0.0
    none = JSDistanceLoss(reduction='none', loss_weight=0.5)(x, y)
    assert torch.allclose(none, 0.5 * naive_js(x, y).float(), atol=1e-5)


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_teacher_gets_no_gradient(axis):
    x, y = rand_pair((2, 3, 4, 5), seed=10)
    pred = x.clone().requires_grad_()
    target = y.clone().requires_grad_()
    loss = JSDistanceLoss(axis=axis)(pred, target)
    assert loss.requires_grad
    loss.backward()
    assert target.grad is None
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    assert pred.grad.abs().sum() > 0
    # the gradient equals the one of the naive (float64) formula
    pred64 = x.double().requires_grad_()
    naive_js(pred64, y.double(), axis=axis).mean().backward()
    assert torch.allclose(pred.grad.double(), pred64.grad, rtol=1e-3,
                          atol=1e-6)
    # a teacher computed by a trainable module: no graph into it at all
    w = torch.tensor(2.0, requires_grad=True)
    assert not JSDistanceLoss(axis=axis)(x, x * w).requires_grad


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_low_precision_inputs(dtype, axis):
    # Large maps of large logits: in half precision the softmax of these
    # underflows, the loss computes in fp32.
    x, y = rand_pair((2, 4, 16, 16), scale=8.0, seed=11)
    x, y = x.to(dtype), y.to(dtype)
    out = JSDistanceLoss(axis=axis, reduction='none')(x, y)
    assert out.dtype == torch.float32
    ref = naive_js(x.float(), y.float(), axis=axis)  # same rounded inputs
    assert torch.isfinite(out).all()
    assert torch.allclose(out.double(), ref, rtol=1e-4, atol=1e-5)
    fp32 = JSDistanceLoss(axis=axis, reduction='none')(x.float(), y.float())
    assert torch.allclose(out, fp32, rtol=1e-6, atol=1e-7)
    # identical half inputs: still ~0, gradients finite
    pred = x.clone().requires_grad_()
    loss = JSDistanceLoss(axis=axis)(pred, x.clone())
    assert loss.item() < 1e-3
    loss.backward()
    assert pred.grad.dtype == dtype
    assert torch.isfinite(pred.grad.float()).all()


@pytest.mark.parametrize('kwargs, word', [
    (dict(axis='foo'), 'axis'),
    (dict(tau=0.0), 'tau'),
    (dict(tau=-1.0), 'tau'),
    (dict(eps=0.0), 'eps'),
    (dict(eps=-1e-8), 'eps'),
    (dict(reduction='max'), 'reduction'),
    (dict(sqrt_per='channel'), 'sqrt_per'),
    (dict(sqrt_per='level', reduction='none'), "reduction='none'"),
])
def test_bad_options(kwargs, word):
    with pytest.raises(ValueError, match='JSDistanceLoss') as info:
        JSDistanceLoss(**kwargs)
    assert word in str(info.value)
    with pytest.raises(ValueError, match='JSDistanceLoss'):
        MODELS.build(dict(type='JSDistanceLoss', **kwargs))


@pytest.mark.parametrize('shape_a, shape_b', [
    ((2, 3, 4, 5), (2, 3, 4, 6)),
    ((2, 3, 4, 5), (1, 3, 4, 5)),
    ((2, 3, 4, 5), (2, 4, 4, 5)),
    ((2, 3, 20), (2, 3, 20)),  # not (N, C, H, W)
    ((2, 3, 4, 5, 1), (2, 3, 4, 5, 1)),
])
def test_shape_mismatch(shape_a, shape_b):
    loss = JSDistanceLoss()
    with pytest.raises(ValueError, match='JSDistanceLoss'):
        loss(torch.randn(shape_a), torch.randn(shape_b))


# sqrt_per: one root per distribution (default) or one per level


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (3, 5, 1, 7), (1, 4, 9, 6)])
@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_both_roots_match_float64(axis, shape, reduction):
    x, y = rand_pair(shape, scale=2.0, seed=sum(shape) + 1)
    div = naive_div(x, y, axis)  # (N, C) or (N, H, W), float64
    reduce = torch.mean if reduction == 'mean' else torch.sum
    # 'distribution': mean / sum over images and channels of the roots
    out = JSDistanceLoss(axis=axis, reduction=reduction)(x, y)
    assert out.dim() == 0 and out.dtype == torch.float32
    assert out.item() == pytest.approx(
        reduce(torch.sqrt(div + 1e-8)).item(), rel=1e-5, abs=1e-6)
    # 'level': one root of the level's mean / summed divergence
    level = JSDistanceLoss(axis=axis, reduction=reduction,
                           sqrt_per='level')(x, y)
    assert level.dim() == 0 and level.dtype == torch.float32
    assert level.item() == pytest.approx(
        torch.sqrt(reduce(div) + 1e-8).item(), rel=1e-5, abs=1e-6)
    # the two readings are different losses (unless one distribution)
    assert abs(level.item() - out.item()) > 1e-3


def test_level_root_of_the_mean_is_above_the_mean_of_roots():
    # Concavity of the root, on maps whose distributions differ a lot.
    x, y = rand_pair((2, 6, 5, 5), scale=3.0, seed=21)
    y[0] = x[0]  # image 0 identical: D = 0 there
    loss = JSDistanceLoss(sqrt_per='level')(x, y)
    plain = JSDistanceLoss()(x, y)
    assert loss > plain
    div = naive_div(x, y)
    assert div[0].abs().max() < 1e-6 and div[1].min() > 1e-3
    assert loss.item() == pytest.approx(math.sqrt(div.mean() + 1e-8),
                                        rel=1e-5)
    # one distribution: both readings agree
    x1, y1 = x[:1, :1], y[1:, :1]
    assert torch.allclose(
        JSDistanceLoss(sqrt_per='level')(x1, y1), JSDistanceLoss()(x1, y1),
        rtol=1e-6)


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_level_weight_and_avg_factor_act_under_the_root(axis):
    x, y = rand_pair((2, 3, 4, 5), seed=22)
    div = naive_div(x, y, axis)
    weight = torch.rand(div.shape, generator=torch.Generator().manual_seed(1))
    loss = JSDistanceLoss(axis=axis, sqrt_per='level', loss_weight=0.5)
    assert loss(x, y, weight).item() == pytest.approx(
        0.5 * math.sqrt((div * weight.double()).mean() + 1e-8), rel=1e-5)
    assert loss(x, y, weight, avg_factor=3.0).item() == pytest.approx(
        0.5 * math.sqrt((div * weight.double()).sum() / 3.0 + 1e-8),
        rel=1e-5)
    assert loss(x, y, reduction_override='sum').item() == pytest.approx(
        0.5 * math.sqrt(div.sum() + 1e-8), rel=1e-5)
    with pytest.raises(ValueError, match="reduction='none'"):
        loss(x, y, reduction_override='none')


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_level_gradient_matches_float64(axis):
    x, y = rand_pair((2, 3, 4, 5), scale=2.0, seed=23)
    pred = x.clone().requires_grad_()
    target = y.clone().requires_grad_()
    JSDistanceLoss(axis=axis, sqrt_per='level')(pred, target).backward()
    assert target.grad is None
    pred64 = x.double().requires_grad_()
    torch.sqrt(naive_div(pred64, y.double(), axis).mean() +
               1e-8).backward()
    assert torch.allclose(pred.grad.double(), pred64.grad, rtol=1e-3,
                          atol=1e-7)
    assert pred.grad.abs().sum() > 0


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
@pytest.mark.parametrize('eps', [1e-8, 1e-12])
def test_level_finite_gradient_for_equal_inputs(axis, eps):
    # D = 0: d sqrt(D + eps) / dD = 1 / (2 sqrt(eps)) is finite, and the
    # divergence's own gradient vanishes at its minimum.
    x, _ = rand_pair((2, 3, 4, 4), scale=3.0, seed=24)
    pred = x.clone().requires_grad_()
    loss = JSDistanceLoss(axis=axis, sqrt_per='level', eps=eps)(pred,
                                                                x.clone())
    # sqrt(eps) up to the fp32 rounding of D (~1e-9)
    assert loss.item() < 1e-3
    loss.backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad.abs().max().item() < 1e-3


@pytest.mark.parametrize('axis', ['spatial', 'channel'])
def test_level_bounded_by_sqrt_ln2(axis):
    n, c, h, w = 2, 4, 3, 3
    x = torch.full((n, c, h, w), -1e4)
    y = torch.full((n, c, h, w), -1e4)
    if axis == 'spatial':
        x[:, :, 0, 0] = 1e4
        y[:, :, 2, 2] = 1e4
    else:
        x[:, 0] = 1e4
        y[:, 3] = 1e4
    out = JSDistanceLoss(axis=axis, sqrt_per='level')(x, y)
    assert out.item() == pytest.approx(math.sqrt(LN2), abs=1e-5)
    for scale in (1e-3, 1.0, 1e3, 1e6):
        a, b = rand_pair((2, 3, 4, 4), scale=scale, seed=25)
        out = JSDistanceLoss(axis=axis, sqrt_per='level')(a, b)
        assert torch.isfinite(out) and 0 <= out.item() <= math.sqrt(
            LN2 + 1e-8) + 1e-6
