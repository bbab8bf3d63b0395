# Copyright (c) mmdet_sssd contributors. All rights reserved.
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmdet.registry import HOOKS

import mmdet_sssd  # noqa: F401
from mmdet_sssd.engine.hooks import EpochSeedHook


def draws():
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)))


def test_each_epoch_draws_a_fixed_stream_whatever_came_before():
    hook = HOOKS.build(dict(type='EpochSeedHook'))
    runner = SimpleNamespace(seed=3, epoch=2)
    hook.before_train_epoch(runner)
    reference = draws()
    torch.rand(100), np.random.rand(7)  # e.g. validation in between
    hook.before_train_epoch(runner)
    assert draws() == reference
    runner.epoch = 3
    hook.before_train_epoch(runner)
    assert draws() != reference
    runner.epoch, runner.seed = 2, 4
    hook.before_train_epoch(runner)
    assert draws() != reference


def test_explicit_seed_overrides_the_runner_seed():
    EpochSeedHook(seed=5).before_train_epoch(SimpleNamespace(seed=0, epoch=1))
    a = draws()
    EpochSeedHook(seed=5).before_train_epoch(SimpleNamespace(seed=9, epoch=1))
    assert draws() == a
    EpochSeedHook().before_train_epoch(SimpleNamespace(seed=9, epoch=1))
    assert draws() != a
