# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Tests of :class:`mmdet_sssd.engine.hooks.AdaptiveDistillCoefHook` in real
mmengine training runs of a tiny SSSD-distilled RetinaNet."""
import copy
import itertools
import json
import math
import socket

import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from mmdet.registry import HOOKS, MODELS, PARAM_SCHEDULERS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd.engine.hooks import AdaptiveDistillCoefHook
from mmdet_sssd.testing import tiny_detector_cfg

register_all_modules()

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CLASSES = ('a', 'b', 'c')
LR0 = 0.01
_counter = itertools.count()


@HOOKS.register_module(force=True)
class DistillCoefRecorderHook(Hook):
    """Records, before each iteration and after AdaptiveDistillCoefHook, the
    model's ``distill_coef`` and the learning rate in use."""

    priority = 'LOW'

    def __init__(self):
        self.records = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        lr = runner.optim_wrapper.optimizer.param_groups[0]['lr']
        phase = getattr(model, 'phase', None) or ()
        # (detach_student, freeze_backbone, distill); the ramp apart
        self.records.append(
            dict(iter=runner.iter, epoch=runner.epoch,
                 coef=model.distill_coef, lr=lr, phase=tuple(phase)[:3],
                 ramp=getattr(phase, 'ramp', None)))


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    """Four 64x64 images with 1-3 boxes each, in COCO format."""
    root = tmp_path_factory.mktemp('coco')
    (root / 'imgs').mkdir()
    rng = np.random.RandomState(0)
    images, annotations = [], []
    for img_id in range(1, 5):
        name = f'{img_id:04d}.png'
        img = rng.randint(0, 255, (64, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(root / 'imgs' / name), img)
        images.append(dict(id=img_id, file_name=name, height=64, width=64))
        for _ in range(img_id % 3 + 1):
            x, y = rng.randint(0, 40, 2)
            w, h = rng.randint(8, 24, 2)
            annotations.append(
                dict(id=len(annotations) + 1, image_id=img_id,
                     category_id=int(rng.randint(1, 4)),
                     bbox=[float(x), float(y), float(w), float(h)],
                     area=float(w * h), iscrowd=0))
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(CLASSES)]
    with open(root / 'ann.json', 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=categories), f)
    return root


@pytest.fixture(scope='module')
def distiller_cfg():
    return dict(
        type='SSSDDistiller',
        detector=tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py',
                                   num_classes=len(CLASSES)),
        teacher=dict(type='LabelEncoderTeacher', feat_channels=32,
                     preset_overrides=dict(encoder_channels=(16, 32, 64),
                                           num_heads=4)),
        adapter=dict(num_convs=1, kernel_size=3))


def warmup_multistep(milestones=(4, 6), gamma=0.1, by_epoch=False, end=8):
    # An explicit `end`: mmengine defaults it to the loop's max_iters, which
    # the interrupted run of the resume test must not change.
    return [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=2),
        dict(type='MultiStepLR', by_epoch=by_epoch, begin=0, end=end,
             milestones=list(milestones), gamma=gamma)
    ]


def make_runner(work_dir, coco_root, model, hook=None,
                param_scheduler=None, max_iters=8, max_epochs=None,
                checkpoint_interval=None, resume=False, load_from=None):
    dataset = dict(
        type='CocoDataset',
        data_root=str(coco_root),
        ann_file='ann.json',
        data_prefix=dict(img='imgs/'),
        metainfo=dict(classes=CLASSES),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True),
            dict(type='PackDetInputs')
        ])
    if max_epochs is None:
        train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
        sampler = dict(type='InfiniteSampler', shuffle=False)
    else:
        train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
        sampler = dict(type='DefaultSampler', shuffle=False)
    custom_hooks = [dict(type='DistillCoefRecorderHook')]
    if hook is not None:
        custom_hooks.insert(0, dict(type='AdaptiveDistillCoefHook', **hook))
    checkpoint = None
    if checkpoint_interval:
        checkpoint = dict(type='CheckpointHook', by_epoch=False,
                          interval=checkpoint_interval)
    return Runner(
        model=copy.deepcopy(model),
        work_dir=str(work_dir),
        experiment_name=f'test_adaptive_distill_coef_{next(_counter)}',
        train_dataloader=dict(
            batch_size=2, num_workers=0, sampler=sampler,
            collate_fn=dict(type='pseudo_collate'), dataset=dataset),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=LR0, momentum=0.9,
                           weight_decay=1e-4)),
        param_scheduler=(warmup_multistep() if param_scheduler is None else
                         param_scheduler),
        train_cfg=train_cfg,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=100),
            checkpoint=checkpoint),
        custom_hooks=custom_hooks,
        default_scope='mmdet',
        randomness=dict(seed=0),
        resume=resume,
        load_from=load_from,
        log_level='WARNING')


def records(runner):
    hooks = [h for h in runner.hooks if isinstance(h, DistillCoefRecorderHook)]
    assert len(hooks) == 1
    return hooks[0].records


def coefs(runner):
    return [r['coef'] for r in records(runner)]


def hub_coefs(runner):
    values, _ = runner.message_hub.get_scalar('train/distill_coef').data
    return [float(v) for v in values]


def test_step_rule_defaults(tmp_path, coco_root, distiller_cfg):
    # The default rule is 'step' (SSSD: one change, at the first LR decay),
    # gamma 2, base_coef the model's 1.
    runner = make_runner(tmp_path, coco_root, distiller_cfg, hook=dict())
    runner.train()
    recs = records(runner)
    assert [r['iter'] for r in recs] == list(range(8))
    assert coefs(runner) == [1.0] * 4 + [2.0] * 4
    # the LR decays twice (4 and 6), lambda changes at the first only
    lrs = [r['lr'] for r in recs]
    assert lrs[3:] == pytest.approx([LR0] + [LR0 * 0.1] * 2 +
                                    [LR0 * 0.01] * 2)
    hook = [h for h in runner.hooks
            if isinstance(h, AdaptiveDistillCoefHook)][0]
    assert (hook.rule, hook.gamma, hook.milestone) == ('step', 2.0, 4)
    assert hook.by_epoch is False
    # logged as train/distill_coef every iteration
    assert hub_coefs(runner) == pytest.approx(coefs(runner))
    # the model keeps the last value, the factor of the distillation loss
    assert runner.model.distill_coef == pytest.approx(2.0)
    distill, _ = runner.message_hub.get_scalar('train/loss_distill').data
    assert len(distill) == 8 and np.all(np.isfinite(distill))
    assert np.all(distill > 0)


def test_step_factor(tmp_path, coco_root, distiller_cfg):
    # gamma is the factor of the one change
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(gamma=5.0, base_coef=0.5))
    runner.train()
    assert coefs(runner) == pytest.approx([0.5] * 4 + [2.5] * 4)
    # ... and a factor below 1 lowers lambda once
    runner = make_runner(tmp_path / 'b', coco_root, distiller_cfg,
                         hook=dict(gamma=0.25))
    runner.train()
    assert coefs(runner) == pytest.approx([1.0] * 4 + [0.25] * 4)


def test_base_coef_defaults_to_the_models_distill_coef(tmp_path, coco_root,
                                                     distiller_cfg):
    # model.distill_coef=0.5 is not overridden by the hook's default
    model = dict(distiller_cfg, distill_coef=0.5)
    runner = make_runner(tmp_path, coco_root, model, hook=dict())
    runner.train()
    assert coefs(runner) == [0.5] * 4 + [1.0] * 4
    # an explicit base_coef wins
    runner = make_runner(tmp_path / 'b', coco_root, model,
                         hook=dict(base_coef=3.0, rule='constant'))
    runner.train()
    assert coefs(runner) == [3.0] * 8


def test_step_rule_scheduler_with_begin(tmp_path, coco_root, distiller_cfg):
    # MultiStepLR milestones count from its `begin`: the LR decays at 4
    sched = [dict(type='MultiStepLR', by_epoch=False, begin=2, end=100,
                  milestones=[2, 3], gamma=0.1)]
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(gamma=10.0), param_scheduler=sched)
    runner.train()
    assert coefs(runner) == pytest.approx([1.] * 4 + [10.] * 4)


def test_step_rule_explicit_milestone(tmp_path, coco_root, distiller_cfg):
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(milestone=3, gamma=3.0, base_coef=0.25))
    runner.train()
    assert coefs(runner) == pytest.approx([0.25] * 3 + [0.75] * 5)
    assert hub_coefs(runner) == pytest.approx(coefs(runner))


def test_step_rule_epoch_based(tmp_path, coco_root, distiller_cfg):
    # 4 images, batch 2: 2 iterations per epoch
    sched = warmup_multistep(milestones=(2, 3), by_epoch=True, end=4)
    runner = make_runner(tmp_path, coco_root, distiller_cfg, hook=dict(),
                         param_scheduler=sched, max_epochs=4)
    runner.train()
    recs = records(runner)
    assert [r['epoch'] for r in recs] == [0, 0, 1, 1, 2, 2, 3, 3]
    # one change, at the first LR decay (epoch 2)
    assert coefs(runner) == [1.0] * 4 + [2.0] * 4
    lrs = [r['lr'] for r in recs]
    assert lrs[2:4] == pytest.approx([LR0] * 2)
    assert lrs[4:6] == pytest.approx([LR0 * 0.1] * 2)
    assert lrs[6:] == pytest.approx([LR0 * 0.01] * 2)
    hook = [h for h in runner.hooks
            if isinstance(h, AdaptiveDistillCoefHook)][0]
    assert hook.by_epoch is True and hook.milestone == 2


@pytest.mark.parametrize('by_epoch, expected', [
    (None, [1.] * 2 + [3.] * 6),  # epochs in an epoch loop
    (False, [1.] + [3.] * 7),  # iterations
])
def test_step_rule_explicit_milestone_epoch_based(tmp_path, coco_root,
                                                  distiller_cfg, by_epoch,
                                                  expected):
    runner = make_runner(
        tmp_path, coco_root, distiller_cfg, max_epochs=4,
        param_scheduler=[dict(type='ConstantLR', factor=1.0, end=1)],
        hook=dict(milestone=1, gamma=3.0, by_epoch=by_epoch))
    runner.train()
    assert coefs(runner) == pytest.approx(expected)


def test_constant_rule(tmp_path, coco_root, distiller_cfg):
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(rule='constant', base_coef=0.7))
    runner.train()
    assert coefs(runner) == [0.7] * 8
    assert hub_coefs(runner) == pytest.approx([0.7] * 8)


def test_zero_coef_zeroes_distill_loss(tmp_path, coco_root, distiller_cfg):
    runner = make_runner(tmp_path, coco_root, distiller_cfg, max_iters=2,
                         hook=dict(rule='constant', base_coef=0.0))
    runner.train()
    distill, _ = runner.message_hub.get_scalar('train/loss_distill').data
    assert list(distill) == [0.0, 0.0]


def test_phases_set_every_iteration(tmp_path, coco_root, distiller_cfg):
    model = dict(distiller_cfg, distill_warmup=2, backbone_freeze=1)
    runner = make_runner(tmp_path, coco_root, model,
                         hook=dict(rule='constant'))
    runner.train()
    # (detach_student, freeze_backbone, distill) of iterations 0-7 of 8
    assert [r['phase'] for r in records(runner)] == [
        (True, True, True), (True, False, True)] + [(False, False, True)] * 6


def test_distill_ramp_raises_lambda_after_the_warmup(tmp_path, coco_root,
                                                     distiller_cfg):
    # warm-up 2, ramp 4 iterations: full lambda in the warm-up (only the
    # adapters learn), then 1/4, 2/4, 3/4 of the rule's lambda (x2 from
    # iteration 4, the first LR decay)
    model = dict(distiller_cfg, distill_warmup=2, distill_ramp=4)
    runner = make_runner(tmp_path, coco_root, model, hook=dict())
    runner.train()
    recs = records(runner)
    assert [r['ramp'] for r in recs] == [1, 1, .25, .5, .75, 1, 1, 1]
    assert coefs(runner) == pytest.approx([1, 1, .25, .5, 1.5, 2, 2, 2])
    assert hub_coefs(runner) == pytest.approx(coefs(runner))
    assert [r['phase'][0] for r in recs] == [True] * 2 + [False] * 6


def test_distill_ramp_counted_in_epochs(tmp_path, coco_root, distiller_cfg):
    # by_epoch: warm-up 1 epoch, ramp 2; two iterations an epoch
    model = dict(distiller_cfg, distill_warmup=1, distill_ramp=2,
                 by_epoch=True)
    runner = make_runner(tmp_path, coco_root, model, max_epochs=4,
                         hook=dict(rule='constant'))
    runner.train()
    assert coefs(runner) == pytest.approx([1, 1, .5, .5, 1, 1, 1, 1])


@pytest.mark.parametrize('ramp', [-1, 1.5, True])
def test_bad_distill_ramp_raises_at_build(distiller_cfg, ramp):
    with pytest.raises(ValueError, match='distill_ramp must be an int'):
        MODELS.build(dict(distiller_cfg, distill_ramp=ramp))


def test_distill_interval_trains_the_student_alone_between(
        tmp_path, coco_root, distiller_cfg):
    model = dict(distiller_cfg, distill_interval=3)
    runner = make_runner(tmp_path, coco_root, model,
                         hook=dict(rule='constant'))
    runner.train()
    assert [r['phase'][2] for r in records(runner)] == [
        i % 3 == 0 for i in range(8)]
    # the distillation and teacher losses were logged in iterations 0, 3
    # and 6 only; the student's in all 8
    hub = runner.message_hub
    assert len(hub.get_scalar('train/loss_distill').data[0]) == 3
    assert len(hub.get_scalar('train/teacher.loss_cls').data[0]) == 3
    assert len(hub.get_scalar('train/loss_cls').data[0]) == 8


def test_distill_interval_under_ddp_needs_unused_parameters(
        tmp_path, coco_root, distiller_cfg, monkeypatch):
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    with socket.socket() as free:  # a port nothing else holds
        free.bind(('127.0.0.1', 0))
        port = free.getsockname()[1]
    monkeypatch.setenv('MASTER_PORT', str(port))
    dist.init_process_group('gloo', rank=0, world_size=1)
    try:
        for unused, interval in [(False, 2), (True, 2), (False, 1)]:
            model = MODELS.build(dict(distiller_cfg,
                                      distill_interval=interval))
            runner = SimpleNamespace(model=MMDistributedDataParallel(
                module=model, find_unused_parameters=unused))
            hook = AdaptiveDistillCoefHook(rule='constant')
            if unused or interval == 1:
                hook.before_run(runner)
            else:
                with pytest.raises(ValueError,
                                   match='find_unused_parameters=True'):
                    hook.before_run(runner)
    finally:
        dist.destroy_process_group()


def test_phases_set_every_epoch(tmp_path, coco_root, distiller_cfg):
    model = dict(distiller_cfg, distill_warmup=1, backbone_freeze=2,
                 by_epoch=True)
    runner = make_runner(tmp_path, coco_root, model, max_epochs=3,
                         hook=dict(rule='constant'))
    runner.train()
    # 2 iterations per epoch (4 images, batch 2)
    assert [r['phase'] for r in records(runner)] == [
        (True, True, True)] * 2 + [(False, True, True)] * 2 + [
            (False, False, True)] * 2


@pytest.mark.parametrize('hook', [
    dict(rule='step', base_coef=0.5, gamma=3.0),
    dict(rule='step', milestone=5, gamma=3.0),
])
def test_resume_gives_uninterrupted_values(tmp_path, coco_root,
                                           distiller_cfg, hook):
    # the phases cross the resume point (iteration 4)
    distiller_cfg = dict(distiller_cfg, distill_warmup=5, backbone_freeze=3)
    full = make_runner(tmp_path / 'full', coco_root, distiller_cfg,
                       hook=hook)
    full.train()
    expected = records(full)

    first = make_runner(tmp_path / 'resume', coco_root, distiller_cfg,
                        hook=hook, max_iters=4, checkpoint_interval=4)
    first.train()
    assert records(first) == expected[:4]
    ckpt = tmp_path / 'resume' / 'iter_4.pth'
    assert ckpt.is_file()

    second = make_runner(tmp_path / 'resume', coco_root, distiller_cfg,
                         hook=hook, resume=True, load_from=str(ckpt))
    second.train()
    recs = records(second)
    assert [r['iter'] for r in recs] == [4, 5, 6, 7]
    for got, want in zip(recs, expected[4:]):
        assert got['coef'] == pytest.approx(want['coef'], rel=1e-12)
        assert got['lr'] == pytest.approx(want['lr'], rel=1e-12)
        assert got['phase'] == want['phase']
    assert [r['phase'] for r in recs] == [(True, False, True)] + [
        (False, False, True)] * 3
    # the resumed message hub continues the logged history
    assert hub_coefs(second) == pytest.approx(
        [r['coef'] for r in expected])


def test_non_distiller_model_raises_type_error(tmp_path, coco_root):
    model = tiny_detector_cfg('retinanet/retinanet_r50_fpn_1x_coco.py',
                              num_classes=len(CLASSES))
    runner = make_runner(tmp_path, coco_root, model, hook=dict())
    with pytest.raises(TypeError, match='AdaptiveDistillCoefHook'):
        runner.train()
    assert records(runner) == []  # no iteration ran


def test_step_rule_without_milestones_raises(tmp_path, coco_root,
                                             distiller_cfg):
    sched = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
             end=2),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=2, end=8,
             T_max=6)
    ]
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(rule='step'), param_scheduler=sched)
    with pytest.raises(ValueError, match='MultiStepLR'):
        runner.train()
    assert records(runner) == []
    # an explicit milestone makes the same schedule valid
    runner = make_runner(tmp_path, coco_root, distiller_cfg, max_iters=3,
                         hook=dict(rule='step', milestone=2),
                         param_scheduler=sched)
    runner.train()
    assert coefs(runner) == [1.0, 1.0, 2.0]


def test_bad_rule_raises(tmp_path, coco_root, distiller_cfg):
    with pytest.raises(ValueError, match='rule'):
        AdaptiveDistillCoefHook(rule='foo')
    with pytest.raises(ValueError, match='AdaptiveDistillCoefHook'):
        make_runner(tmp_path, coco_root, distiller_cfg, hook=dict(rule='foo'))


@pytest.mark.parametrize('kwargs', [
    dict(base_coef=-1.0),
    dict(gamma=-1.0),
    dict(rule='inverse_lr'),
])
def test_bad_options_raise(kwargs):
    with pytest.raises(ValueError, match='AdaptiveDistillCoefHook'):
        AdaptiveDistillCoefHook(**kwargs)


def test_registered_in_mmdet_hooks():
    hook = HOOKS.build(dict(type='AdaptiveDistillCoefHook', rule='constant',
                            base_coef=2.0))
    assert isinstance(hook, AdaptiveDistillCoefHook)
    assert hook.priority == 'NORMAL'
    assert (hook.rule, hook.base_coef) == ('constant', 2.0)


def test_step_rule_ignores_milestones_past_scheduler_end(tmp_path, coco_root,
                                                         distiller_cfg):
    # The LR decays at 4 only (6 is past end=5): lambda must do the same.
    sched = warmup_multistep(milestones=(4, 6), end=5)
    runner = make_runner(tmp_path, coco_root, distiller_cfg,
                         hook=dict(gamma=10.0), param_scheduler=sched)
    runner.train()
    assert coefs(runner) == pytest.approx([1.] * 4 + [10.] * 4)
    # no milestone before the end: the LR never decays, nor lambda
    sched = warmup_multistep(milestones=(8, 9), end=8)
    runner = make_runner(tmp_path / 'b', coco_root, distiller_cfg,
                         hook=dict(gamma=10.0), param_scheduler=sched)
    runner.train()
    assert coefs(runner) == [1.] * 8


# The real schedules: the SSSD COCO config's (mmdet's 2x, epoch-based) and
# LGD's 180k iterations. No training: the hook and the real mmengine
# schedulers are stepped through every iteration of the schedule.

LGD_180K = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=1000),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=180000,
         milestones=[120000, 160000], gamma=0.1)
]


class _Distiller(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)
        self.distill_coef = 1.0


def run_schedule(param_scheduler, max_iters, iters_per_epoch=None,
                 **hook_kwargs):
    """Iterations (and epochs) at which lambda and the LR change, as
    ``[(iter, epoch, value), ...]`` each, and the hook."""
    model = _Distiller()
    optimizer = torch.optim.SGD(model.parameters(), lr=LR0)
    schedulers = [
        PARAM_SCHEDULERS.build(copy.deepcopy(cfg),
                               default_args=dict(optimizer=optimizer))
        for cfg in param_scheduler
    ]
    loop = ('EpochBasedTrainLoop' if iters_per_epoch else
            'IterBasedTrainLoop')
    runner = SimpleNamespace(
        model=model, param_schedulers=schedulers, iter=0, epoch=0,
        train_loop=type(loop, (), {})(),
        optim_wrapper=SimpleNamespace(optimizer=optimizer))
    hook = AdaptiveDistillCoefHook(**hook_kwargs)
    hook.before_run(runner)
    hook.before_train(runner)
    coef_changes, lr_changes = [], []
    last_coef = None
    for it in range(max_iters):
        runner.iter = it
        if iters_per_epoch:
            runner.epoch = it // iters_per_epoch
        # what before_train_iter sets (its logging is slow for 180k steps;
        # the training runs above cover it)
        coef = hook.coef(runner)
        lr = optimizer.param_groups[0]['lr']
        if coef != last_coef:
            coef_changes.append((it, runner.epoch, coef))
            last_coef = coef
        # after the warm-up
        if it > 2000 and (not lr_changes or lr != lr_changes[-1][2]):
            lr_changes.append((it, runner.epoch, lr))
        for s in schedulers:
            if not s.by_epoch:
                s.step()
        if iters_per_epoch and (it + 1) % iters_per_epoch == 0:
            for s in schedulers:
                if s.by_epoch:
                    s.step()
    return coef_changes, lr_changes, hook


def test_lgd_180k_iterations_one_change_at_120k():
    coefs_, lrs, hook = run_schedule(LGD_180K, 180000)
    # the LR: warm-up, then x0.1 at 120k and 160k
    assert [(i, pytest.approx(v)) for i, _, v in lrs] == [
        (2001, LR0), (120000, LR0 * 0.1), (160000, LR0 * 0.01)]
    # lambda: once, at the first decay
    assert [(i, v) for i, _, v in coefs_] == [(0, 1.0), (120000, 2.0)]
    assert hook.milestone == 120000 and not hook.by_epoch


@pytest.mark.parametrize('config', [
    'configs/sssd/sssd_retinanet_r50_fpn_2x_coco.py',
    'configs/sssd/sssd_faster-rcnn_r50_fpn_1x_coco.py'
])
def test_sssd_config_schedule_one_change_at_first_decay(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    steps = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    first, second = steps[0].milestones  # 16, 22 (2x) or 8, 11 (1x)
    epochs, per_epoch = cfg.train_cfg.max_epochs, 1000
    coefs_, lrs, hook = run_schedule(cfg.param_scheduler, epochs * per_epoch,
                                     per_epoch, gamma=1.5)
    # the LR decays at the start of two epochs ...
    assert [(e, pytest.approx(v)) for _, e, v in lrs] == [
        (2, LR0), (first, LR0 * 0.1), (second, LR0 * 0.01)]
    # ... lambda once, at the first
    assert [(i, e, v) for i, e, v in coefs_] == [(0, 0, 1.0),
                                                 (first * per_epoch, first,
                                                  1.5)]
    assert hook.by_epoch and hook.milestone == first
