# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A checkpoint whose pickle runs code is refused by every tool that loads
one, before any of its code runs (docs/safety.md)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmdet_sssd.testing import make_toy_coco
from mmdet_sssd.utils import TRUSTED_CHECKPOINTS_ENV, tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')
TOOLS = osp.join(ROOT, 'tools')


class CreatesAFile:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.fixture(scope='module')
def toy_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('safety')
    make_toy_coco(str(root / 'data' / 'toy'))
    # looks like a training checkpoint; its meta opens a file when unpickled
    torch.save(dict(meta=CreatesAFile(str(root / 'marker')), state_dict={}),
               str(root / 'evil.pth'))
    return root


COMMANDS = {
    'load_from': ['train.py', TOY, '--work-dir', 'w1', '--cfg-options',
                  'load_from=evil.pth', 'train_cfg.max_epochs=1'],
    '--resume': ['train.py', TOY, '--work-dir', 'w2', '--resume',
                 'evil.pth'],
    'test.py': ['test.py', TOY, 'evil.pth', '--work-dir', 'w3'],
    'export_student.py': ['model_converters/export_student.py', TOY,
                          'evil.pth', 'student.pth'],
}


@pytest.mark.parametrize('name', list(COMMANDS))
def test_tools_refuse_a_checkpoint_that_runs_code(toy_dir, name):
    script, *args = COMMANDS[name]
    env = tools_env(PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    env.pop(TRUSTED_CHECKPOINTS_ENV, None)
    proc = subprocess.run([sys.executable, osp.join(TOOLS, script), *args],
                          cwd=str(toy_dir), env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode != 0
    assert 'UntrustedCheckpointError' in proc.stderr, proc.stderr[-3000:]
    assert 'refused to load the checkpoint evil.pth' in proc.stderr
    assert TRUSTED_CHECKPOINTS_ENV in proc.stderr
    assert not osp.exists(toy_dir / 'marker')
    assert not osp.exists(toy_dir / 'student.pth')
