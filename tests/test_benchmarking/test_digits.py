# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The digits preset: its schedules read from the configs, and the options
each method's training gets."""
import json
import os
import os.path as osp

import pytest

from mmdet_sssd.benchmarking.digits import (CONFIGS, DigitsJob,
                                            digits_root, epochs_for,
                                            resize_options, schedule_options)


def config(method):
    return osp.join(digits_root(), CONFIGS[method])


def test_schedule_options_find_the_step_scheduler_by_type(tmp_path):
    # the options the job passed before (the step LR is the second
    # scheduler of the digits configs, after the warm-up)
    assert schedule_options(config('baseline'), 12, by_epoch=True) == [
        'train_cfg.max_epochs=12', 'param_scheduler.1.end=12',
        'param_scheduler.1.milestones=[8,10]',
        'default_hooks.checkpoint.interval=12']
    assert schedule_options(config('semi-baseline'), 4, by_epoch=False) == [
        'train_cfg.max_iters=4', 'train_cfg.val_interval=1',
        'param_scheduler.1.end=4', 'param_scheduler.1.milestones=[2,3]',
        'default_hooks.checkpoint.interval=4']
    # found where it is, not at an assumed position
    first = tmp_path / 'first.py'
    first.write_text("param_scheduler = [dict(type='MultiStepLR', end=2, "
                     "milestones=[1]), dict(type='LinearLR', end=1)]\n")
    assert schedule_options(str(first), 1, True)[1:3] == [
        'param_scheduler.0.end=1', 'param_scheduler.0.milestones=[1,1]']
    none = tmp_path / 'none.py'
    none.write_text("param_scheduler = [dict(type='LinearLR', end=1)]\n")
    with pytest.raises(ValueError, match='no MultiStepLR'):
        schedule_options(str(none), 1, True)


def test_a_distill_ramp_keeps_its_fraction_of_the_run(tmp_path):
    """--epochs retimes distill_ramp as it does the warm-up (both in
    epochs of the config, as iterations of the retimed run); a config
    without one gets no option for it."""
    recommended = config('sssd-decoupled-lam1-warmup3-adl')
    ramped = tmp_path / 'ramped.py'
    ramped.write_text(f"_base_ = {recommended!r}\n"
                      f"model = dict(distill_ramp=3)\n")
    options = schedule_options(str(ramped), 36, True, scale_own=True,
                               num_train=2000)
    phases = dict(o.split('=') for o in options if o.startswith('model.'))
    assert phases['model.distill_ramp'] == phases['model.distill_warmup']
    assert int(phases['model.distill_warmup']) > 36  # iterations
    assert not any('distill_ramp' in o for o in schedule_options(
        recommended, 36, True, scale_own=True, num_train=2000))


def test_training_options_same_seed_and_data_order_in_every_arm(tmp_path):
    job = DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth',
                    arms={m: CONFIGS[m] for m in ('baseline', 'sssd')},
                    work_dir=str(tmp_path / 'job'), experiment='e',
                    cfg_options=['extra=1'])
    root = str(tmp_path / 'data') + '/'
    (_, seed), _, base, _ = job.train_task('baseline', 7)
    _, _, sssd, _ = job.train_task('sssd', 7)
    assert seed == 7
    for cmd, prefix in ((base, 'model.'), (sssd, 'model.detector.')):
        options = cmd[cmd.index('--cfg-options') + 1:]
        assert options[0] == f'train_dataloader.dataset.data_root={root}'
        assert f'{prefix}backbone.init_cfg.checkpoint=bb.pth' in options
        assert 'param_scheduler.1.end=1' in options
        # the seed's options, then the user's
        assert options[-3:] == ['randomness.seed=7',
                                'train_dataloader.sampler.seed=7',
                                'extra=1']
    assert job.record_fields('baseline', 7) == dict(
        epochs=1, iters=None, num_train=8, num_val=4)
    assert job.record_fields('semi-baseline', 7)['iters'] == 4


def test_more_train_images_keep_the_iterations_and_milestone_fractions(
        tmp_path):
    # 2000 images x 9 epochs = 1000 x 18: LR x0.1 after 6 and 8 epochs
    # (the config's 12 and 16 of 18)
    assert epochs_for('default', 2000) == 9
    assert epochs_for('default', 3000) == 6
    assert epochs_for('full', 6000) == 8
    for bad in (1700, 0, 20000):
        with pytest.raises(ValueError, match='must divide 18000'):
            epochs_for('default', bad)
    assert schedule_options(config('baseline'), 9, True,
                            scale_own=True) == [
        'train_cfg.max_epochs=9', 'param_scheduler.1.end=9',
        'param_scheduler.1.milestones=[6,8]',
        'default_hooks.checkpoint.interval=9']
    arms = {m: CONFIGS[m] for m in ('baseline', 'sssd-decoupled-lam10',
                                    'sssd-published', 'semi-baseline')}
    job = DigitsJob('default', str(tmp_path / 'data'), 'bb.pth',
                    num_train=2000, arms=arms,
                    work_dir=str(tmp_path / 'job'), experiment='e')
    assert (job.num_train, job.epochs) == (2000, 9)
    for method in ('baseline', 'sssd-decoupled-lam10'):
        options = job.method_options(method)
        assert 'param_scheduler.1.milestones=[6,8]' in options
        assert 'train_cfg.max_epochs=9' in options
    # LGD's warm-up (3 of 18 epochs) and backbone freeze (2): the same
    # 375 and 250 iterations of the 2250, counted in iterations
    published = job.method_options('sssd-published')
    assert published[-4:-1] == ['model.by_epoch=False',
                                'model.distill_warmup=375',
                                'model.backbone_freeze=250']
    assert not any('by_epoch' in o
                   for o in job.method_options('sssd-decoupled-lam10'))
    # iteration-based configs keep their own iterations
    assert not any('max_iters' in o
                   for o in job.method_options('semi-baseline'))
    assert job.record_fields('baseline', 1)['num_train'] == 2000
    # the size's own images: the configs' own schedule, untouched
    own = DigitsJob('default', str(tmp_path / 'data'), 'bb.pth',
                    num_train=1000, arms=arms,
                    work_dir=str(tmp_path / 'job'), experiment='e')
    assert own.epochs == 18
    assert not any('max_epochs' in o for o in own.method_options('baseline'))
    # 2000 images for 18 epochs (twice the iterations): the milestones and
    # phases at the config's fractions, and the record says 18
    longer = DigitsJob('default', str(tmp_path / 'data'), 'bb.pth',
                       num_train=2000, epochs=18, arms=arms,
                       work_dir=str(tmp_path / 'job'), experiment='e')
    options = longer.method_options('baseline')
    assert 'train_cfg.max_epochs=18' in options
    assert 'param_scheduler.1.milestones=[12,16]' in options
    assert longer.record_fields('baseline', 1)['epochs'] == 18
    assert longer.method_options('sssd-published')[-3:-1] == [
        'model.distill_warmup=750', 'model.backbone_freeze=500']


def test_coco_layout_resizes_every_pipeline_and_is_recorded(tmp_path):
    """--layout coco: each Resize of the train, val and test pipelines
    scales to the 192-pixel scenes (found by type), the layout goes into
    the records; the configs' own scenes get no option and no field."""
    arms = {m: CONFIGS[m] for m in ('baseline',
                                    'sssd-decoupled-lam1-warmup3-adl')}
    job = DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth', arms=arms,
                    work_dir=str(tmp_path / 'job'), experiment='e',
                    layout='coco')
    resize = ['train_dataloader.dataset.pipeline.2.scale=(192,192)',
              'val_dataloader.dataset.pipeline.2.scale=(192,192)',
              'test_dataloader.dataset.pipeline.2.scale=(192,192)']
    for method in arms:
        assert job.method_options(method)[-3:] == resize
    assert job.record_fields('baseline', 7)['layout'] == 'coco'
    plain = DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth', arms=arms,
                      work_dir=str(tmp_path / 'job'), experiment='e')
    assert not any('scale' in o for o in plain.method_options('baseline'))
    assert 'layout' not in plain.record_fields('baseline', 7)
    # the backbone's pretraining scales too, where not the digits'; a
    # finished run of other scenes or scales is not reused
    scales = DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth', arms=arms,
                       work_dir=str(tmp_path / 'job'), experiment='e',
                       layout='coco', pretrain_scales='layout')
    assert scales.record_fields('baseline', 7)['pretrain_scales'] == 'layout'
    assert 'pretrain_scales' not in job.record_fields('baseline', 7)
    os.makedirs(job.run_dir('baseline', 7))
    with open(osp.join(job.run_dir('baseline', 7), 'run.json'), 'w') as f:
        json.dump(dict(job.record_fields('baseline', 7), split='test',
                       train_loss=[]), f)
    assert job.reuse('baseline', 7)['layout'] == 'coco'
    for other in (scales, plain):
        with pytest.raises(ValueError, match='give another --work-dir'):
            other.reuse('baseline', 7)
    # a record from before the field (the 3700 probe's): its command says
    with open(osp.join(job.run_dir('baseline', 7), 'run.json'), 'w') as f:
        json.dump(dict(job.record_fields('baseline', 7), split='test',
                       train_loss=[], command='python tools/digits_benchmark'
                       '.py --layout coco --pretrain-scales layout'), f)
    assert scales.reuse('baseline', 7)['layout'] == 'coco'
    with pytest.raises(ValueError, match='give another --work-dir'):
        job.reuse('baseline', 7)
    with pytest.raises(ValueError, match='pretrain_scales must be'):
        DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth', arms=arms,
                  work_dir=str(tmp_path / 'job'), experiment='e',
                  pretrain_scales='coco')
    # found where it is; a loader without one is refused
    moved = tmp_path / 'moved.py'
    moved.write_text(
        "pipeline = [dict(type='LoadImageFromFile'), "
        "dict(type='Resize', scale=(96, 96))]\n"
        "train_dataloader = dict(dataset=dict(pipeline=pipeline))\n"
        "val_dataloader = train_dataloader\n"
        "test_dataloader = dict(dataset=dict(pipeline=[]))\n")
    with pytest.raises(ValueError, match='no Resize in test_dataloader'):
        resize_options(str(moved), 192)
    with pytest.raises(ValueError, match='layout must be one of'):
        DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth', arms=arms,
                  work_dir=str(tmp_path / 'job'), experiment='e',
                  layout='voc')
    # the COCO layout's factors apart: its sizes' 192 pixels, its counts
    # on the 96-pixel scenes (no Resize option), each recorded
    for layout, scaled in (('coco-sizes', True), ('coco-counts', False)):
        factor = DigitsJob('smoke', str(tmp_path / 'data'), 'bb.pth',
                           arms=arms, work_dir=str(tmp_path / 'job'),
                           experiment='e', layout=layout)
        options = factor.method_options('baseline')
        assert (options[-3:] == resize) is scaled
        assert scaled or not any('scale' in o for o in options)
        assert factor.record_fields('baseline', 7)['layout'] == layout
