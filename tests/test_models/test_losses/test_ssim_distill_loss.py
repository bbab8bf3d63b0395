# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.losses import SSIMDistillLoss


def naive_ssim_map(x, y, size=11, sigma=1.5, pad=0, minmax=True,
                   pad_mode='constant', convention='one_minus_ssim'):
    """The distance of each window, (N, C, H', W'), window by window in
    float64 with numpy; ``pad`` cells of ``np.pad(mode=pad_mode)`` first
    (numpy repeats the reflection for pads larger than the map)."""
    x, y = x.double().numpy(), y.double().numpy()
    if minmax:
        def mm(a):
            lo = a.min(axis=(2, 3), keepdims=True)
            hi = a.max(axis=(2, 3), keepdims=True)
            return (a - lo) / np.maximum(hi - lo, 1e-12)
        x, y = mm(x), mm(y)
    if pad:
        width = ((0, 0), (0, 0), (pad, pad), (pad, pad))
        x = np.pad(x, width, mode=pad_mode)
        y = np.pad(y, width, mode=pad_mode)
    g = np.exp(-(np.arange(size) - (size - 1) / 2)**2 / (2 * sigma**2))
    w = np.outer(g, g) / g.sum()**2
    c1, c2 = 0.01**2, 0.03**2
    n, c, h, wd = x.shape
    out = np.zeros((n, c, h - size + 1, wd - size + 1))
    for i in range(n):
        for j in range(c):
            for r in range(h - size + 1):
                for s in range(wd - size + 1):
                    a = x[i, j, r:r + size, s:s + size]
                    b = y[i, j, r:r + size, s:s + size]
                    ma, mb = (w * a).sum(), (w * b).sum()
                    va = (w * a * a).sum() - ma**2
                    vb = (w * b * b).sum() - mb**2
                    cov = (w * a * b).sum() - ma * mb
                    ssim = ((2 * ma * mb + c1) * (2 * cov + c2)) / (
                        (ma**2 + mb**2 + c1) * (va + vb + c2))
                    if convention == 'kornia':
                        out[i, j, r, s] = min(max((1 - ssim) / 2, 0), 1)
                    else:
                        out[i, j, r, s] = 1 - ssim
    return out


def naive_ssim_loss(x, y, size=11, sigma=1.5, pad=0, minmax=True, **kwargs):
    """The mean of :func:`naive_ssim_map`."""
    return float(np.mean(naive_ssim_map(x, y, size, sigma, pad, minmax,
                                        **kwargs)))


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_build_from_registry():
    loss = MODELS.build(dict(type='SSIMDistillLoss', window_size=7))
    assert isinstance(loss, SSIMDistillLoss) and loss.window_size == 7


@pytest.mark.parametrize('shape', [(2, 3, 13, 14), (1, 2, 11, 11)])
def test_matches_naive_formula(shape):
    x, y = rand(*shape), rand(*shape, seed=1)
    assert SSIMDistillLoss()(x, y).item() == pytest.approx(
        naive_ssim_loss(x, y), abs=1e-5)


def test_zero_padding_matches_naive_formula():
    x, y = rand(1, 2, 6, 7), rand(1, 2, 6, 7, seed=1)
    loss = SSIMDistillLoss(window_size=5, sigma=1.0, padding='zeros')
    assert loss(x, y).item() == pytest.approx(
        naive_ssim_loss(x, y, 5, 1.0, pad=2), abs=1e-5)


def test_without_minmax():
    x, y = rand(1, 1, 12, 12).sigmoid(), rand(1, 1, 12, 12, seed=1).sigmoid()
    loss = SSIMDistillLoss(normalize='none')
    assert loss(x, y).item() == pytest.approx(
        naive_ssim_loss(x, y, minmax=False), abs=1e-5)


def test_identical_and_scaled_maps_give_zero():
    x = rand(2, 4, 16, 16)
    assert SSIMDistillLoss()(x, x).item() == pytest.approx(0, abs=1e-6)
    # min-max makes it invariant to the scale and offset of each map
    assert SSIMDistillLoss()(3 * x + 5, x).item() == pytest.approx(
        0, abs=1e-5)


@pytest.mark.parametrize('size', [(1, 1), (2, 3), (4, 4), (5, 9)])
def test_maps_smaller_than_the_window(size):
    # P7 of small images: the window shrinks to the largest odd size
    x, y = rand(2, 3, *size), rand(2, 3, *size, seed=1)
    value = SSIMDistillLoss()(x, y)
    assert torch.isfinite(value) and 0 <= value.item() <= 2
    k = min(size) - (1 - min(size) % 2)
    assert value.item() == pytest.approx(
        naive_ssim_loss(x, y, k, 1.5 * k / 11), abs=1e-5)
    zeros = SSIMDistillLoss(padding='zeros')(x, y)
    assert torch.isfinite(zeros)


def test_constant_and_all_background_maps():
    const = torch.full((1, 2, 12, 12), 3.0)
    zeros = torch.zeros(1, 2, 12, 12)
    assert SSIMDistillLoss()(const, zeros).item() == pytest.approx(0)
    x = rand(1, 2, 12, 12)
    value = SSIMDistillLoss()(x, zeros)
    assert torch.isfinite(value) and value > 0.5
    x.requires_grad_(True)
    SSIMDistillLoss()(x, zeros).backward()
    assert torch.isfinite(x.grad).all()


def test_gradient_matches_finite_differences_and_teacher_detached():
    x = rand(1, 2, 7, 7).requires_grad_(True)
    y = rand(1, 2, 7, 7, seed=1).requires_grad_(True)
    loss = SSIMDistillLoss(window_size=5)
    loss(x, y).backward()
    assert y.grad is None
    for idx in [(0, 0, 3, 3), (0, 1, 0, 6), (0, 0, 5, 1)]:
        h = 1e-2
        plus, minus = x.detach().clone(), x.detach().clone()
        plus[idx] += h
        minus[idx] -= h
        numeric = (loss(plus, y) - loss(minus, y)).item() / (2 * h)
        assert x.grad[idx].item() == pytest.approx(numeric, rel=0.05,
                                                   abs=1e-4)


def test_weight_and_loss_weight_and_bad_options():
    x, y = rand(1, 2, 12, 12), rand(1, 2, 12, 12, seed=1)
    base = SSIMDistillLoss()(x, y)
    assert SSIMDistillLoss(loss_weight=2.0)(x, y) == pytest.approx(2 * base)
    none = SSIMDistillLoss(reduction='none')(x, y)
    assert none.shape == (1, 2, 2, 2)
    for kwargs in [dict(window_size=4), dict(sigma=0), dict(padding='same'),
                   dict(normalize='z'), dict(convention='ssim'),
                   dict(convention='kornia', padding='replicate')]:
        with pytest.raises(ValueError):
            SSIMDistillLoss(**kwargs)
    with pytest.raises(ValueError, match='same shape'):
        SSIMDistillLoss()(x, y[:, :1])
    assert not math.isnan(base.item())


# convention='kornia': de Rijk et al.'s kornia.losses.ssim_loss


def test_conventions_and_their_default_padding():
    loss = MODELS.build(dict(type='SSIMDistillLoss'))
    assert (loss.convention, loss.padding) == ('one_minus_ssim', 'valid')
    loss = MODELS.build(dict(type='SSIMDistillLoss', convention='kornia'))
    assert (loss.convention, loss.padding) == ('kornia', 'reflect')
    loss = SSIMDistillLoss(convention='kornia', padding='valid')
    assert loss.padding == 'valid'
    assert SSIMDistillLoss(padding='reflect').padding == 'reflect'
    with pytest.raises(ValueError, match='convention'):
        MODELS.build(dict(type='SSIMDistillLoss', convention='paper'))


# (7, 11): P7 of an 800x1333 input; sides <= 5: reflection repeated
@pytest.mark.parametrize('shape', [(2, 2, 13, 12), (1, 3, 7, 11),
                                   (2, 2, 5, 9), (1, 2, 4, 4), (2, 2, 2, 3),
                                   (1, 2, 1, 6), (2, 1, 1, 1)])
def test_kornia_convention_matches_float64(shape):
    x, y = rand(*shape), rand(*shape, seed=1)
    loss = SSIMDistillLoss(convention='kornia', reduction='none')
    out = loss(x, y)
    # one distance per location: all H*W positions
    assert out.shape == shape and out.dtype == torch.float32
    ref = naive_ssim_map(x, y, 11, 1.5, pad=5, pad_mode='reflect',
                         convention='kornia')
    assert np.allclose(out.double().numpy(), ref, atol=2e-6)
    assert SSIMDistillLoss(convention='kornia')(x, y).item() == \
        pytest.approx(ref.mean(), abs=1e-6)
    assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize('padding, pad, mode', [('valid', 0, None),
                                                ('zeros', 3, 'constant'),
                                                ('reflect', 3, 'reflect')])
@pytest.mark.parametrize('convention', ['kornia', 'one_minus_ssim'])
def test_every_padding_and_convention_match_float64(padding, pad, mode,
                                                    convention):
    x, y = rand(2, 2, 9, 8, seed=2), rand(2, 2, 9, 8, seed=3)
    loss = SSIMDistillLoss(window_size=7, sigma=1.2, padding=padding,
                           convention=convention, normalize='none')
    kwargs = dict(convention=convention)
    if mode:
        kwargs['pad_mode'] = mode
    ref = naive_ssim_loss(x, y, 7, 1.2, pad=pad, minmax=False, **kwargs)
    assert loss(x, y).item() == pytest.approx(ref, abs=2e-6)


def test_kornia_distance_is_half_of_one_minus_ssim():
    # hence the factor 2 between the two conventions' loss_weight
    x, y = rand(2, 3, 16, 15), rand(2, 3, 16, 15, seed=1)
    for padding in ('valid', 'zeros', 'reflect'):
        half = SSIMDistillLoss(convention='kornia', padding=padding,
                               reduction='none')(x, y)
        full = SSIMDistillLoss(padding=padding, reduction='none')(x, y)
        assert torch.allclose(2 * half, full, atol=1e-6)
        assert full.max() > 0.5  # not a trivial pair


def test_loss_weight_reproduces_the_papers_level_sum():
    # The distiller: distill_coef * mean over the 5 levels of the loss;
    # the paper: lambda * sum over levels of the mean kornia distance.
    gen = torch.Generator().manual_seed(0)
    sizes = [(20, 24), (10, 12), (5, 6), (3, 3), (2, 2)]
    levels = [(torch.randn(2, 4, *s, generator=gen),
               torch.randn(2, 4, *s, generator=gen)) for s in sizes]
    lam = 0.7
    papers = lam * sum(
        naive_ssim_loss(s, t, pad=5, pad_mode='reflect', convention='kornia')
        for s, t in levels)
    kornia = SSIMDistillLoss(convention='kornia', loss_weight=5 * lam)
    ours = torch.stack([kornia(s, t) for s, t in levels]).mean()
    assert ours.item() == pytest.approx(papers, rel=1e-5)
    # 'one_minus_ssim' with the same padding: half the loss_weight
    plain = SSIMDistillLoss(padding='reflect', loss_weight=5 * lam / 2)
    ours = torch.stack([plain(s, t) for s, t in levels]).mean()
    assert ours.item() == pytest.approx(papers, rel=1e-5)


@pytest.mark.parametrize('size', [(1, 1), (2, 2), (3, 5), (7, 11)])
def test_kornia_gradient_on_small_maps(size):
    x = rand(2, 3, *size).requires_grad_(True)
    y = rand(2, 3, *size, seed=1).requires_grad_(True)
    loss = SSIMDistillLoss(convention='kornia')(x, y)
    assert torch.isfinite(loss)
    loss.backward()
    assert y.grad is None
    assert torch.isfinite(x.grad).all()
    if size == (1, 1):
        # a min-max-rescaled 1x1 map is 0 on both sides: no distance
        assert loss.item() == 0
    else:
        assert x.grad.abs().sum() > 0


def test_kornia_gradient_matches_finite_differences():
    x = rand(1, 2, 4, 6).requires_grad_(True)
    y = rand(1, 2, 4, 6, seed=1)
    loss = SSIMDistillLoss(window_size=11, convention='kornia',
                           normalize='none')
    loss(x, y).backward()
    for idx in [(0, 0, 0, 0), (0, 1, 2, 3), (0, 0, 3, 5)]:
        h = 1e-2
        plus, minus = x.detach().clone(), x.detach().clone()
        plus[idx] += h
        minus[idx] -= h
        numeric = (loss(plus, y) - loss(minus, y)).item() / (2 * h)
        assert x.grad[idx].item() == pytest.approx(numeric, rel=0.05,
                                                   abs=1e-5)
