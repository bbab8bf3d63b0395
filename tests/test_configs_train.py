# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Every shipped config trains through mmengine's runner and validates once.

Each config keeps its model wrapper, optimizer wrapper, param schedulers,
custom hooks and pipelines; :func:`cpu_smoke_config` swaps only what a CPU
test machine cannot run (data, model size, image scales, schedule length,
a pretrained teacher's weights). A new config under ``configs/`` is covered
without touching this file.
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
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if '_base_' not in p)


class StepProbe(Hook):
    """Records what the optimizer steps on (the gradients after mmengine's
    clipping), the losses, and the validation runs."""

    priority = 'LOWEST'

    def __init__(self):
        self.max_abs_grad, self.grad_norm, self.losses = [], [], []
        self.val_runs = 0

    def before_train(self, runner):
        optimizer = runner.optim_wrapper.optimizer
        step = optimizer.step

        def recorded_step(*args, **kwargs):
            grads = [p.grad for group in optimizer.param_groups
                     for p in group['params'] if p.grad is not None]
            self.max_abs_grad.append(
                max(float(g.abs().max()) for g in grads))
            self.grad_norm.append(
                float(torch.stack([g.norm() for g in grads]).norm()))
            return step(*args, **kwargs)

        optimizer.step = recorded_step

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.losses.append({k: float(v.detach()) for k, v in outputs.items()})

    def after_val_epoch(self, runner, metrics=None):
        self.val_runs += 1


def expected_recipe(path: str, cfg: Config):
    """What the README states for the label-teacher COCO configs (LGD's
    recipe and teacher; docs/lgd_fidelity.md): None for configs it says
    nothing about."""
    folder, name = path.split(osp.sep)[1], osp.basename(path)
    model = cfg.model
    if (folder not in ('sssd', 'lgd', 'ssim', 'adl', 'sssd-lite')
            or model.get('teacher', 'default') is None):
        return None
    two_x = '2x' in name
    context = 'retinanet' in name or 'fcos_r101' in name
    return dict(
        distill_warmup=30000 if two_x else 20000,
        backbone_freeze=20000 if two_x else 0,
        clip_grad=dict(type='value', clip_value=1.0),
        lr_warmup=dict(type='LinearLR', start_factor=0.001, by_epoch=False,
                       begin=0, end=1000),
        find_unused_parameters=two_x,
        preset='lite' if folder == 'sssd-lite' else 'lgd',
        adapter_kernel=1 if folder == 'sssd-lite' else 3,
        use_context_box=context,
        multi_scale=[(1333, s) for s in range(640, 801, 32)]
        if 'ms-640-800' in name else None)


def check_recipe(recipe, cfg, runner, model):
    assert model.phases.warmup == recipe['distill_warmup']
    assert model.phases.backbone_freeze == recipe['backbone_freeze']
    assert model.phases.by_epoch is False  # LGD counts iterations
    # the hook that drives lambda and the phases
    assert [h.type for h in cfg.custom_hooks].count(
        'AdaptiveDistillCoefHook') == 1
    assert dict(cfg.optim_wrapper.clip_grad) == recipe['clip_grad']
    assert dict(cfg.param_scheduler[0]) == recipe['lr_warmup']
    assert bool(cfg.get('find_unused_parameters')) == \
        recipe['find_unused_parameters']
    assert model.teacher.preset == recipe['preset']
    assert model.teacher.use_context_box == recipe['use_context_box']
    if model.label_term.adapter is not None:
        assert model.label_term.adapter[0].conv.kernel_size == (
            recipe['adapter_kernel'], ) * 2
    resize = [t for t in cfg.train_dataloader.dataset.pipeline
              if 'Resize' in t['type']]
    if recipe['multi_scale']:
        assert resize[0]['type'] == 'RandomChoiceResize'
        assert [tuple(s) for s in resize[0]['scales']] == \
            recipe['multi_scale']
    # SSSD: the JS distance with one root per level, lambda stepped once;
    # LGD: one MSE over all levels' elements, lambda constant
    loss = cfg.model.get('distill_loss') or {}
    hook = [h for h in cfg.custom_hooks
            if h['type'] == 'AdaptiveDistillCoefHook'][0]
    if loss.get('type') == 'JSDistanceLoss':
        assert loss.get('sqrt_per') == 'level'
        assert model.level_weights == 'uniform'
        assert hook.get('rule', 'step') == 'step'
        assert hook.get('milestone') is None  # the first LR decay
    elif loss.get('type') == 'MSELoss':
        assert model.level_weights == 'size'
        assert hook.get('rule') == 'constant'


@pytest.mark.parametrize('path', CONFIGS)
def test_config_trains_and_validates(path, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # configs name repo-relative files
    cfg = Config.fromfile(path)
    name = re.sub(r'\W', '_', path)
    smoke = cpu_smoke_config(
        cfg, str(tmp_path / 'data'), str(tmp_path / 'work'),
        experiment_name=f'{name}_{id(tmp_path)}')
    runner = Runner.from_cfg(smoke)
    probe = StepProbe()
    runner.register_hook(probe)
    runner.train()

    assert runner.iter == 2 and len(probe.losses) == 2
    for losses in probe.losses:
        assert all(map(torch.isfinite, map(torch.tensor, losses.values())))
    assert probe.val_runs == 1

    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    clip = cfg.optim_wrapper.get('clip_grad')
    if clip:
        # the config's clipping reached the optimizer wrapper and acted
        # before each step
        assert '_delete_' not in clip
        kwargs = dict(clip)
        clip_type = kwargs.pop('type', 'norm')
        assert runner.optim_wrapper.clip_grad_kwargs == kwargs
        if clip_type == 'value':
            assert max(probe.max_abs_grad) <= kwargs['clip_value'] + 1e-6
        else:
            assert max(probe.grad_norm) <= kwargs['max_norm'] * (1 + 1e-4)
    if cfg.model.type == 'SSSDDistiller':
        hooks = [type(h).__name__ for h in runner.hooks]
        for hook in cfg.custom_hooks:
            assert hook['type'] in hooks

    recipe = expected_recipe(path, cfg)
    if recipe is not None:
        check_recipe(recipe, cfg, runner, model)


def test_smoke_config_keeps_the_recipe_and_swaps_the_data(tmp_path):
    """The swap leaves the parts under test alone."""
    path = 'configs/sssd/sssd_retinanet_r50_fpn_2x_coco.py'
    cfg = Config.fromfile(osp.join(ROOT, path))
    smoke = cpu_smoke_config(cfg, str(tmp_path / 'data'),
                             str(tmp_path / 'work'))
    for key in ('optim_wrapper', 'param_scheduler', 'custom_hooks'):
        assert smoke[key] == cfg[key]
    for key in ('distill_warmup', 'backbone_freeze', 'type'):
        assert smoke.model[key] == cfg.model[key]
    assert smoke.model.detector.backbone.depth == 18
    assert smoke.model.detector.backbone.get('init_cfg') is None
    dataset = smoke.train_dataloader.dataset
    assert dataset.data_root == str(tmp_path / 'data')
    resize = [t for t in dataset.pipeline if t.type == 'Resize'][0]
    assert resize.scale == (133, 80)
    assert smoke.train_cfg.max_epochs == 1
