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


@pytest.mark.parametrize('path', CONFIGS)
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
