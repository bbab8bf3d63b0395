# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The distillation term by value (float64 recomputation), and LGD's and
SSSD's level reductions."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs
from mmdet.utils import register_all_modules
from mmengine.logging import MessageHub

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.losses.js_distance_loss import js_divergence
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()
RETINANET = 'retinanet/retinanet_r50_fpn_1x_coco.py'


def set_iter(i, max_iters=100):
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', i)
    hub.update_info('epoch', 0)
    hub.update_info('max_iters', max_iters)


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(
        dict(type='SSSDDistiller', detector=tiny_detector_cfg(
            RETINANET, num_classes=3), **kwargs))


def inputs(model):
    packed = demo_mm_inputs(2, [[3, 96, 128], [3, 80, 100]], num_items=[3, 2],
                            num_classes=3)
    return model.data_preprocessor(packed, True)


def capture(model, data):
    """Student maps, teacher maps and the losses of one step."""
    seen = {}
    model.teacher.register_forward_hook(
        lambda m, args, out: seen.update(student=args[0], teacher=out))
    losses = model(**data, mode='loss')
    return seen['student'], seen['teacher'], losses


def instance_norm(x):
    mean = x.mean((2, 3), keepdim=True)
    var = x.var((2, 3), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + 1e-5)


@pytest.mark.parametrize('coef', [1.0, 2.5])
@pytest.mark.parametrize('level_weights', ['uniform', 'size'])
@pytest.mark.parametrize('with_adapter', [True, False])
def test_mse_term_by_value(coef, level_weights, with_adapter):
    set_iter(50)
    model = build(distill_loss=dict(type='MSELoss'), distill_coef=coef,
                  level_weights=level_weights,
                  adapter=dict(num_convs=3, kernel_size=3)
                  if with_adapter else None)
    student, teacher, losses = capture(model, inputs(model))
    diffs = []
    for s, t in zip(student, teacher):
        s = s.double()
        if with_adapter:
            s = model.label_term.adapter.double()(s)
        s, t = instance_norm(s), instance_norm(t.double())
        diffs.append((s - t).pow(2).flatten())
    model.label_term.adapter and model.label_term.adapter.float()
    if level_weights == 'size':  # LGD: one MSE over all levels' elements
        expected = coef * torch.cat(diffs).mean()
    else:  # SSSD's 1/N sum_p
        expected = coef * torch.stack([d.mean() for d in diffs]).mean()
    assert losses['loss_distill'].item() == pytest.approx(
        expected.item(), rel=1e-4)
    # the two reductions differ: P3 has most elements
    sizes = [d.numel() for d in diffs]
    assert sizes[0] > 10 * sizes[-1]


def test_js_level_root_by_value():
    set_iter(50)
    model = build(distill_loss=dict(type='JSDistanceLoss', sqrt_per='level'),
                  adapter=None)
    student, teacher, losses = capture(model, inputs(model))
    roots = []
    for s, t in zip(student, teacher):
        p = instance_norm(s.double()).flatten(2).log_softmax(-1)
        q = instance_norm(t.double()).flatten(2).log_softmax(-1)
        m = torch.logaddexp(p, q) - torch.log(torch.tensor(2.))
        js = 0.5 * ((p.exp() * (p - m)).sum(-1) + (q.exp() * (q - m)).sum(-1))
        roots.append(torch.sqrt(js.mean() + 1e-8))
    expected = torch.stack(roots).mean()
    assert losses['loss_distill'].item() == pytest.approx(
        expected.item(), rel=1e-4)
    assert callable(js_divergence)


def js_roots(s, t):
    """sqrt(D_JS + eps) per (image, channel), spatial softmax, float64."""
    p, q = s.flatten(2).log_softmax(-1), t.flatten(2).log_softmax(-1)
    m = torch.logaddexp(p, q) - torch.log(torch.tensor(2.))
    js = 0.5 * ((p.exp() * (p - m)).sum(-1) + (q.exp() * (q - m)).sum(-1))
    return torch.sqrt(js.clamp(min=0) + 1e-8)


@pytest.mark.parametrize('coef', [1.0, 3.0])
@pytest.mark.parametrize('with_adapter', [True, False])
def test_default_js_term_by_value(coef, with_adapter):
    """SSSD's default: lambda * mean_p mean_(n,c) sqrt(JS(IN(adapter(S_p)),
    IN(sg(T_p))))."""
    set_iter(50)
    model = build(distill_coef=coef,
                  adapter=dict(num_convs=3, kernel_size=1)
                  if with_adapter else None)
    student, teacher, losses = capture(model, inputs(model))
    levels = []
    for s, t in zip(student, teacher):
        s, t = s.double(), t.double()
        if with_adapter:
            s = model.label_term.adapter.double()(s)
        levels.append(js_roots(instance_norm(s), instance_norm(t)).mean())
    model.label_term.adapter and model.label_term.adapter.float()
    expected = coef * torch.stack(levels).mean()
    assert losses['loss_distill'].item() == pytest.approx(
        expected.item(), rel=1e-4)


def test_level_weights_is_checked():
    with pytest.raises(ValueError, match='level_weights'):
        build(level_weights='elements')


def grads(module):
    return [p.grad for p in module.parameters()]
