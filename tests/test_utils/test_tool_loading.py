# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The tools' preamble: a config with options, its model and checkpoint."""
import os
import os.path as osp

import pytest
import torch
from mmengine.runner import save_checkpoint

from mmdet_sssd.utils import load_config, load_model, tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'retinanet_r18-tiny_fpn_toy.py')
SSSD = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')


def test_teacher_config_or_the_reason_there_is_none():
    cfg = load_config(SSSD, dict(train_cfg=dict(max_epochs=5)),
                      teacher=True)
    assert cfg.train_cfg.max_epochs == 5
    # the GT is loaded right after the image (before Resize)
    types = [t.type for t in cfg.test_dataloader.dataset.pipeline]
    assert types[1] == 'LoadAnnotations'
    with pytest.raises(SystemExit, match='not an SSSDDistiller'):
        load_config(TOY, teacher=True)


def test_model_with_its_checkpoint_or_fresh(tmp_path):
    torch.manual_seed(0)
    _, model, loaded = load_model(TOY)
    assert loaded == {}
    ckpt = str(tmp_path / 'm.pth')
    save_checkpoint(dict(state_dict=model.state_dict(),
                         meta=dict(epoch=3)), ckpt)
    torch.manual_seed(1)
    cfg, again, loaded = load_model(TOY, ckpt)
    assert loaded['meta'] == dict(epoch=3)
    for a, b in zip(model.state_dict().values(),
                    again.state_dict().values()):
        assert torch.equal(a, b)


def test_tools_env_puts_this_package_first():
    import mmdet_sssd
    env = tools_env(OMP_NUM_THREADS='1')
    first = env['PYTHONPATH'].split(os.pathsep)[0]
    assert osp.join(first, 'mmdet_sssd', '__init__.py') == \
        osp.abspath(mmdet_sssd.__file__)
    assert env['OMP_NUM_THREADS'] == '1'
