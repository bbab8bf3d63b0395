# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Weight averaging for every arm: the EMA config and the raw weights of a
checkpoint saved by mmengine's EMAHook."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import EMAHook
from mmengine.model import ExponentialMovingAverage

from mmdet_sssd.benchmarking.weight_averaging import (ema_config, ema_hook,
                                                      raw_weights)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.parametrize('name', ['retinanet_r18_fpn_digits.py',
                                  'sssd-decoupled_retinanet_r18_fpn_digits.py'])
def test_ema_config_appends_the_hook_to_the_configs_own(name, tmp_path):
    config = osp.join(ROOT, 'configs', 'digits', name)
    own = Config.fromfile(config).get('custom_hooks', [])
    cfg = Config.fromfile(ema_config(config, str(tmp_path), 0.004))
    assert cfg.custom_hooks[:-1] == own
    assert cfg.custom_hooks[-1] == ema_hook(0.004)
    assert cfg.model == Config.fromfile(config).model


def test_ema_hook_checks_its_momentum():
    with pytest.raises(ValueError, match='momentum'):
        ema_hook(1.5)


def test_raw_weights_are_the_checkpoints_unaveraged_ones(tmp_path):
    """A checkpoint as EMAHook saves it (averaged weights in state_dict,
    the raw ones in ema_state_dict) gives back the raw weights."""
    model = torch.nn.Linear(2, 1)
    hook = EMAHook(momentum=0.5)
    hook.ema_model = ExponentialMovingAverage(model, momentum=0.5)
    hook.ema_model.update_parameters(model)  # the first copies
    with torch.no_grad():
        model.weight.add_(1.0)  # the raw weights move, the average lags
    hook.ema_model.update_parameters(model)
    raw = {k: v.clone() for k, v in model.state_dict().items()}
    ckpt = dict(meta=dict(epoch=1), state_dict=model.state_dict())
    hook.before_save_checkpoint(None, ckpt)
    assert not torch.equal(ckpt['state_dict']['weight'], raw['weight'])
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(ckpt, path)
    out = torch.load(raw_weights(path), weights_only=True)
    assert out['state_dict'].keys() == raw.keys()
    for key in raw:
        assert torch.equal(out['state_dict'][key], raw[key])

    torch.save(dict(state_dict=raw), path)
    with pytest.raises(KeyError, match='not trained with EMAHook'):
        raw_weights(path)
