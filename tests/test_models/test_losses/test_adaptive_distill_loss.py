# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math

import pytest
import torch
from mmdet.registry import MODELS

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.losses import AdaptiveDistillLoss


def naive_adl(s, t, alpha=0.5, beta=1.0, gamma=2.0, temp=1.0, base='kl',
              norm_power=1.8, temperature_mode='divide'):
    """The formula of docs/method.md, element by element, in float64."""
    total, norm = 0.0, 0.0
    div = temp if temperature_mode == 'divide' else 1.0
    for a, b in zip(s.flatten().tolist(), t.flatten().tolist()):
        p = 1 / (1 + math.exp(-a / div))
        q = 1 / (1 + math.exp(-b / div))
        kl = q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))
        ent = -q * math.log(q) - (1 - q) * math.log(1 - q)
        focus = (1 - math.exp(-(kl + beta * ent)))**gamma
        if base == 'kl':
            total += focus * kl
        else:
            total += -(2 if base == 'bce' else 1) * focus * (
                alpha * q * math.log(p) +
                (1 - alpha) * (1 - q) * math.log(1 - p))
        norm += q**norm_power
    scale = 1.0 if temperature_mode == 'divide' else temp**2
    return scale * total / max(norm, 1.0)


def logits(*shape, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def test_build_from_registry():
    loss = MODELS.build(dict(type='AdaptiveDistillLoss', gamma=1.0))
    assert isinstance(loss, AdaptiveDistillLoss) and loss.gamma == 1.0


@pytest.mark.parametrize('kwargs', [
    dict(), dict(gamma=0.0), dict(beta=0.0, gamma=1.0),
    dict(temperature=2.0), dict(base='bce', alpha=0.25),
    dict(norm_power=1.0), dict(base='alpha_bce'),
    dict(base='alpha_bce', temperature=2.0, temperature_mode='scale_loss')
])
def test_matches_naive_formula(kwargs):
    s, t = logits(2, 9, 3, 3), logits(2, 9, 3, 3, seed=1)
    ours = AdaptiveDistillLoss(**kwargs)(s, t).item()
    naive_kwargs = dict(kwargs)
    if 'temperature' in naive_kwargs:
        naive_kwargs['temp'] = naive_kwargs.pop('temperature')
    assert ours == pytest.approx(naive_adl(s, t, **naive_kwargs), rel=1e-4)


def test_normaliser_floor_of_one_on_all_background():
    # confident background teacher: sum q^1.8 << 1, the sum is not inflated
    s, t = logits(1, 20) - 8, torch.full((1, 20), -12.0)
    assert AdaptiveDistillLoss()(s, t).item() == pytest.approx(
        naive_adl(s, t), rel=1e-4)
    assert AdaptiveDistillLoss()(t, t).item() == pytest.approx(0, abs=1e-7)


def test_mean_normaliser():
    s, t = logits(3, 4), logits(3, 4, seed=1)
    elementwise = naive_adl(s, t, norm_power=0.0) * max(12, 1) / 12
    assert AdaptiveDistillLoss(norm_power=None)(s, t).item() == \
        pytest.approx(elementwise, rel=1e-4)


def test_extreme_logits_are_finite_with_finite_gradients():
    s = torch.tensor([-80., -20., 0., 20., 80.], requires_grad=True)
    t = torch.tensor([80., -80., 0., 20., -80.])
    value = AdaptiveDistillLoss()(s, t)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(s.grad).all()


def test_focus_on_disagreement_and_detached_teacher():
    t = torch.tensor([4.0, 4.0], requires_grad=True)
    s = torch.tensor([4.0, -4.0], requires_grad=True)
    value = AdaptiveDistillLoss()(s, t)
    value.backward()
    assert t.grad is None
    # the agreeing element gets (almost) no gradient, the other a large one
    assert abs(s.grad[0]) < 1e-6 < abs(s.grad[1])


def test_gradient_check():
    s = logits(2, 5, seed=3).double().requires_grad_(True)
    t = logits(2, 5, seed=4).double()
    loss = AdaptiveDistillLoss(norm_power=None)
    torch.autograd.gradcheck(lambda a: loss(a, t).double(), (s, ),
                             eps=1e-3, atol=1e-3, rtol=1e-2)


def test_bad_options_and_shapes():
    for kwargs in [dict(base='ce'), dict(temperature=0), dict(gamma=-1),
                   dict(alpha=1.5), dict(temperature_mode='soft')]:
        with pytest.raises(ValueError):
            AdaptiveDistillLoss(**kwargs)
    with pytest.raises(ValueError, match='same shape'):
        AdaptiveDistillLoss()(logits(2, 9), logits(2, 8))
