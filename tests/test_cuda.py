# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""On a GPU: one mixed-precision (AMP) training step of each COCO config
family and of the digits probes' parts no COCO family has, the
distiller's forward on CUDA matching its CPU forward, and the analysis
tools' passes on the device.

Skipped where ``torch.cuda.is_available()`` is false (CI has no GPU); run
``python -m pytest tests/test_cuda.py`` on a machine with one.
"""
import glob
import os.path as osp
import re

import pytest
import torch
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing.smoke_config import cpu_smoke_config

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='needs a CUDA device')


def config_families():
    """One COCO config of each (method folder, detector), e.g. ``sssd`` x
    ``retinanet``, ``lgd`` x ``fcos``: the folder's own method
    (``sssd_*``) before its variants (``sssd-teacher-r101_*``)."""
    first = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py')),
                       key=lambda p: ('-' in osp.basename(p).split('_')[0],
                                      p)):
        folder = osp.basename(osp.dirname(path))
        if folder in ('_base_', 'digits', 'toy'):
            continue
        detector = osp.basename(path).split('_')[1]
        first.setdefault((folder, detector), osp.relpath(path, ROOT))
    return sorted(first.values())


# Digits configs of the benchmark's probes whose parts no COCO family has:
# the two-stage student's RoI logit term (ADL), lambda ramped after the
# warm-up, and the geometry teacher with the wide mapper.
GEOMETRY_WIDE = ('docs/benchmarks/digits/teacher_capacity_probe/sssd-'
                 'decoupled-lam1-warmup3-adl-geometry-wide_retinanet_r18_fpn_'
                 'digits.py')
DIGITS_PROBES = [
    'docs/benchmarks/digits/coco_layout_probe/sssd-decoupled-lam1-warmup3-'
    'adl_faster-rcnn_r18_fpn_digits-fpn64.py',
    'docs/benchmarks/digits/ramp_probe/sssd-decoupled-lam1-warmup3-ramp3-'
    'adl_retinanet_r18_fpn_digits.py',
    GEOMETRY_WIDE,
]
# the recommended configuration
RECOMMENDED = ('configs/digits/sssd-decoupled-lam1-warmup3-adl_retinanet_'
               'r18_fpn_digits.py')


@pytest.mark.parametrize('path', config_families() + DIGITS_PROBES,
                         ids=lambda p: osp.splitext(osp.basename(p))[0])
def test_amp_training_step_on_cuda(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    cfg = Config.fromfile(path)
    smoke = cpu_smoke_config(
        cfg, str(tmp_path / 'data'), str(tmp_path / 'work'),
        experiment_name=f'cuda_{re.sub(r"[^0-9A-Za-z]", "_", path)}')
    # mixed precision, the config's clipping and lr multipliers kept
    smoke.optim_wrapper.type = 'AmpOptimWrapper'
    smoke.optim_wrapper.loss_scale = 'dynamic'
    runner = Runner.from_cfg(smoke)
    losses = []
    runner.register_hook(LossProbe(losses))
    runner.train()
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    assert all(p.is_cuda for p in model.parameters())
    assert len(losses) == 2
    for step in losses:
        assert all(torch.isfinite(torch.tensor(v)) for v in step.values())


class LossProbe(Hook):
    """Records each iteration's losses."""
    priority = 'LOWEST'

    def __init__(self, losses):
        self.losses = losses

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v.detach()) for k, v in outputs.items()})


def digits_model_and_runner(path, tmp_path, name, score_thr=None,
                            **options):
    """A digits distiller built (seeded) from the smoke version of the
    config at ``path``, with ``options`` set on it, and a runner of that
    config for its data; ``score_thr`` replaces the student's test one."""
    smoke = cpu_smoke_config(Config.fromfile(path), str(tmp_path / 'data'),
                             str(tmp_path / 'work'), experiment_name=name)
    # no warm-up: outside a runner no hook sets the phases
    smoke.model.update(distill_warmup=0, **options)
    if score_thr is not None:
        smoke.model.detector.test_cfg.update(score_thr=score_thr)
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(smoke.model)
    model.init_weights()
    return model, Runner.from_cfg(smoke)


@pytest.mark.parametrize('path,options', [
    ('configs/digits/sssd_retinanet_r18_fpn_digits.py',
     dict(teacher_trains_head=True)),
    # the recommended recipe: the decoupled head and ADL's logit term
    (RECOMMENDED, {}),
    # the logit term's gradient on one path: a second head pass on the device
    (RECOMMENDED, dict(logit_grad_to='head')),
    # the geometry teacher (box offsets and sides painted) with the wide
    # mapper: the 5500-6000 probes' teacher
    (GEOMETRY_WIDE, {}),
    # a teacher that starts from its student's maps (student_residual)
    ('docs/benchmarks/digits/coco_layout_probe/sssd-decoupled-lam1-warmup3-'
     'adl-residual_retinanet_r18_fpn_digits-fpn64.py', {}),
], ids=lambda v: osp.splitext(osp.basename(v))[0] if isinstance(v, str)
   else ','.join(v) or 'as-is')
def test_distiller_forward_on_cuda_matches_cpu(path, options, tmp_path,
                                               monkeypatch):
    """A digits distiller's losses on one batch, CPU vs CUDA (the teacher's
    box grids, the JS distance and, in the recommended recipe, the logit
    term on the device)."""
    monkeypatch.chdir(ROOT)
    model, runner = digits_model_and_runner(path, tmp_path, 'cuda_vs_cpu',
                                            **options)
    batch = next(iter(runner.train_dataloader))
    results = {}
    for device in ('cpu', 'cuda'):
        model.to(device).train()
        data = model.data_preprocessor(batch, True)
        torch.manual_seed(0)
        losses = model(**data, mode='loss')
        results[device] = {k: float(v if torch.is_tensor(v) else sum(v))
                           for k, v in losses.items()}
    assert results['cpu'].keys() == results['cuda'].keys()
    for key, value in results['cpu'].items():
        assert results['cuda'][key] == pytest.approx(value, rel=1e-3,
                                                     abs=1e-4), key


def test_step_cost_models_take_their_batches_to_cuda():
    """``digits_benchmark.py --step-cost N --device cuda``: each timed
    model, the floor too, puts its batch on the GPU."""
    from mmdet.structures import DetDataSample

    from mmdet_sssd.benchmarking.step_cost import _floor
    floor, _, batch_size, _ = _floor(
        osp.join(ROOT, 'configs/digits/retinanet_r18_fpn_digits.py'),
        (None, None, 8, 100), 'cuda')
    sample = DetDataSample(metainfo=dict(img_shape=(96, 96)))
    data = floor.data_preprocessor(
        dict(inputs=[torch.zeros(3, 96, 96, dtype=torch.uint8)],
             data_samples=[sample]), True)
    assert data['inputs'].is_cuda and batch_size == 8


@pytest.mark.parametrize('swap', ['scores', 'boxes'])
def test_teacher_swap_on_cuda_matches_cpu(swap, tmp_path, monkeypatch):
    """``eval_teacher.py --swap`` on a GPU: the mixed predictions (the
    teacher's scores on the student's boxes, or the converse) of one batch,
    CPU vs CUDA. No score threshold, so that a fresh model has predictions
    to compare (``nms_pre``, NMS and ``max_per_img`` still choose them):
    their sorted scores must agree, their boxes be finite and on the
    device. TF32 is off so that near-tied scores choose alike."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(torch.backends.cudnn, 'allow_tf32', False)
    monkeypatch.setattr(torch.backends.cuda.matmul, 'allow_tf32', False)
    model, runner = digits_model_and_runner(
        RECOMMENDED, tmp_path, f'cuda_swap_{swap}', score_thr=0.0)
    model.teacher_swap = swap
    batch = next(iter(runner.val_dataloader))
    scores = {}
    for device in ('cpu', 'cuda'):
        model.to(device).eval()
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            _, mixed = model.predict_pair(data['inputs'],
                                          data['data_samples'])
        instances = mixed[0].pred_instances
        assert instances.bboxes.device.type == device
        assert len(instances) > 0 and torch.isfinite(instances.bboxes).all()
        scores[device] = instances.scores.sort(descending=True)[0].cpu()
    assert torch.allclose(scores['cuda'], scores['cpu'], rtol=1e-3,
                          atol=1e-5)


def test_head_fit_on_cuda(tmp_path, monkeypatch):
    """``eval_teacher.py --head-fit N`` on a GPU: the student's head alone
    learns on the teacher's maps of CUDA batches; the rest stays as it
    was, every parameter on the device."""
    from mmdet_sssd.analysis import fit_head
    monkeypatch.chdir(ROOT)
    model, runner = digits_model_and_runner(
        RECOMMENDED, tmp_path, 'cuda_head_fit')
    model.cuda()
    head_params = {id(p) for head in model.head_runner.heads
                   for p in head.parameters()}
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    trace = fit_head(model, runner.train_dataloader, 3, maps='teacher',
                     optimizer=dict(type='AdamW', lr=1e-3))
    assert len(trace) == 3 and all(torch.isfinite(torch.tensor(trace)))
    assert all(p.is_cuda for p in model.parameters())
    changed = {k for k, v in model.named_parameters()
               if not torch.equal(before[k], v)}
    in_head = {k for k, v in model.named_parameters()
               if id(v) in head_params}
    assert changed and changed <= in_head, changed - in_head
