# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.losses import SSIMDistillLoss


def naive_ssim_loss(x, y, size=11, sigma=1.5, pad=0, minmax=True):
    """1 - SSIM averaged, window by window, in float64 with numpy."""
    x, y = x.double().numpy(), y.double().numpy()
    if minmax:
        def mm(a):
            lo = a.min(axis=(2, 3), keepdims=True)
            hi = a.max(axis=(2, 3), keepdims=True)
            return (a - lo) / np.maximum(hi - lo, 1e-12)
        x, y = mm(x), mm(y)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        y = np.pad(y, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    g = np.exp(-(np.arange(size) - (size - 1) / 2)**2 / (2 * sigma**2))
    w = np.outer(g, g) / g.sum()**2
    c1, c2 = 0.01**2, 0.03**2
    out = []
    n, c, h, wd = x.shape
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
                    out.append(1 - ssim)
    return float(np.mean(out))


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
                   dict(normalize='z')]:
        with pytest.raises(ValueError):
            SSIMDistillLoss(**kwargs)
    with pytest.raises(ValueError, match='same shape'):
        SSIMDistillLoss()(x, y[:, :1])
    assert not math.isnan(base.item())
