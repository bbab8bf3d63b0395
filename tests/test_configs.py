# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Every shipped config loads and builds its model (full size, no weights
downloaded: a pretrained teacher's checkpoint is not read here)."""
import glob
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmdet_sssd  # noqa: F401
from mmdet_sssd.models.teachers.frozen_detector import FrozenDetector

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT)
    for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
    if '_base_' not in p)
# The benchmark's probe configs (one change each of a digits config,
# beside the pre-registrations that ran them) are trained or scored by
# its commands.
PROBE_CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'docs', 'benchmarks', '*', '*', '*.py')))


@pytest.mark.parametrize('path', CONFIGS + PROBE_CONFIGS)
def test_config_builds(path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the digits teacher config is repo-relative
    monkeypatch.setattr(FrozenDetector, 'load', lambda self: None)
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    if cfg.model.type == 'SSSDDistiller':
        names = [h['type'] for h in cfg.custom_hooks]
        assert names[0] == 'AdaptiveDistillCoefHook'
        assert {'EpochSeedHook', 'TrainDataCheckHook'} <= set(names)
        if cfg.model.get('pretrained_teacher'):
            assert model.pretrained_teacher is not None


def test_the_lambda_rule_and_the_hooks_have_one_home():
    """Configs say only what differs: the hooks list is written once, in
    configs/_base_/sssd_runtime.py; a config changes lambda's rule with
    one line (``custom_hooks = _base_.constant_lambda_hooks``)."""
    runtime = osp.join('configs', '_base_', 'sssd_runtime.py')
    for path in CONFIGS:
        with open(osp.join(ROOT, path)) as f:
            assert 'AdaptiveDistillCoefHook' not in f.read(), (
                f'{path} restates the hooks list; take a named list of '
                f'{runtime}')
    constant = Config.fromfile(
        osp.join(ROOT, 'configs', 'lgd', 'lgd_retinanet_r50_fpn_2x_coco.py'))
    stepwise = Config.fromfile(osp.join(
        ROOT, 'configs', 'sssd', 'sssd_retinanet_r50_fpn_2x_coco.py'))
    assert constant.custom_hooks[0] == dict(
        type='AdaptiveDistillCoefHook', rule='constant')
    assert stepwise.custom_hooks[0] == dict(
        type='AdaptiveDistillCoefHook', rule='step')
    assert constant.custom_hooks[1:] == stepwise.custom_hooks[1:]
    # --cfg-options still reaches the hook, and one list is not the other
    stepwise.merge_from_dict({'custom_hooks.0.rule': 'constant'})
    assert stepwise.custom_hooks[0].rule == 'constant'
    assert stepwise.stepwise_lambda_hooks[0].rule == 'step'
