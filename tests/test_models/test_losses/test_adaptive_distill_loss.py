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


def naive_softmax_adl(s, t, beta=1.0, gamma=2.0, temp=1.0, base='kl',
                      norm_power=1.8):
    """The softmax form, row by row, in float64."""
    total, norm = 0.0, 0.0
    for a, b in zip(s.tolist(), t.tolist()):
        za = sum(math.exp(x / temp) for x in a)
        zb = sum(math.exp(x / temp) for x in b)
        p = [math.exp(x / temp) / za for x in a]
        q = [math.exp(x / temp) / zb for x in b]
        kl = sum(qi * math.log(qi / pi) for pi, qi in zip(p, q))
        ent = -sum(qi * math.log(qi) for qi in q)
        focus = (1 - math.exp(-(kl + beta * ent)))**gamma
        total += focus * (kl if base == 'kl' else kl + ent)
        norm += sum(qi**norm_power for qi in q)
    return total / max(norm, 1.0)


@pytest.mark.parametrize('kwargs', [
    dict(), dict(gamma=0.0), dict(beta=0.0, gamma=1.0),
    dict(temperature=2.0), dict(base='bce'), dict(norm_power=1.0)])
def test_softmax_matches_naive_formula(kwargs):
    s, t = logits(7, 5), logits(7, 5, seed=1)
    ours = AdaptiveDistillLoss(use_sigmoid=False, **kwargs)(s, t).item()
    naive_kwargs = dict(kwargs)
    if 'temperature' in naive_kwargs:
        naive_kwargs['temp'] = naive_kwargs.pop('temperature')
    assert ours == pytest.approx(naive_softmax_adl(s, t, **naive_kwargs),
                                 rel=1e-4)
    # not the sigmoid form of the same numbers
    assert ours != pytest.approx(AdaptiveDistillLoss(**{
        k: v for k, v in kwargs.items()})(s, t).item(), rel=1e-2)


def test_softmax_rows_are_distributions_weighted_per_row():
    s, t = logits(4, 6), logits(4, 6, seed=2)
    loss = AdaptiveDistillLoss(use_sigmoid=False, norm_power=None)
    # a constant added to a row's logits is the same distribution
    assert loss(s + torch.arange(4.)[:, None], t).item() == pytest.approx(
        loss(s, t).item(), rel=1e-5)
    assert loss(t, t).item() == pytest.approx(0, abs=1e-7)
    # one weight per row; the mean is over the rows (norm_power 0: the
    # naive sum over one row divided by its 6 elements)
    weight = torch.tensor([1., 0., 0., 0.])
    assert loss(s, t, weight).item() == pytest.approx(
        naive_softmax_adl(s[:1], t[:1], norm_power=0.0) * 6 / 4, rel=1e-4)


def test_softmax_extreme_logits_and_detached_teacher():
    s = torch.tensor([[-80., 0., 80.], [30., -30., 0.]], requires_grad=True)
    t = torch.tensor([[80., -80., 0.], [30., -30., 0.]], requires_grad=True)
    value = AdaptiveDistillLoss(use_sigmoid=False)(s, t)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(s.grad).all()
    assert t.grad is None and s.grad[1].abs().max() < 1e-6 < \
        s.grad[0].abs().max()


def test_softmax_refuses_the_sigmoid_only_base_and_elementwise_weights():
    with pytest.raises(ValueError, match="use_sigmoid=False give 'kl'"):
        AdaptiveDistillLoss(use_sigmoid=False, base='alpha_bce')
    s, t = logits(3, 3), logits(3, 3, seed=1)
    with pytest.raises(ValueError, match=r'one per row, shape \(3,\)'):
        AdaptiveDistillLoss(use_sigmoid=False)(s, t, torch.ones(3, 3))


def test_fractional_focus_is_refused():
    """0 < gamma < 1: x^gamma has an infinite slope at 0, where a sure
    teacher and its student agree."""
    with pytest.raises(ValueError, match='gamma must be 0 or >= 1'):
        AdaptiveDistillLoss(gamma=0.5)
