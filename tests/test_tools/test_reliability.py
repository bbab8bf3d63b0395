# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Crash and resume (CrashSafeCheckpointHook, turned on by the toy config),
and data-parallel training with torch.distributed (torchrun, gloo, CPU),
through tools/train.py and tools/dist_train.sh."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from mmdet_sssd.testing import TOY_CLASSES, make_toy_coco
from mmdet_sssd.utils import load_from_local_safely, tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')
HERE = osp.dirname(osp.abspath(__file__))


def run(cmd, cwd, check=True):
    env = tools_env(PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([HERE, env['PYTHONPATH']])
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    if check:
        assert proc.returncode == 0, (
            f'{" ".join(cmd)} failed:\n{proc.stderr[-6000:]}')
    return proc


def train(cwd, config, work_dir, *args, check=True):
    return run([sys.executable, osp.join(ROOT, 'tools', 'train.py'),
                config, '--work-dir', work_dir, *args], cwd, check)


def scalars(work_dir):
    """Training records of the newest run in ``work_dir``, by iteration."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isdir(osp.join(work_dir, d, 'vis_data')))
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        return {r['iter']: r for r in map(json.loads, f) if 'loss' in r}


def load_state(path):
    # the plugin's safe loader reads mmengine's checkpoints as they are
    return load_from_local_safely(path, map_location='cpu')


CRASH_CONFIG = f'''
_base_ = {TOY!r}
custom_imports = dict(imports=['mmdet_sssd', 'probe_hooks'],
                      allow_failed_imports=False)
# random flips: the resumed run must draw the same ones
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=pipeline))
train_cfg = dict(max_epochs=3)
# LR x0.1 and lambda x2 at epoch 2
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=3, milestones=[2])
]
randomness = dict(seed=0, deterministic=True)
'''


@pytest.fixture(scope='module')
def toy_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('reliability')
    make_toy_coco(str(root / 'data' / 'toy'))
    (root / 'crash.py').write_text(CRASH_CONFIG)
    # the same run, killed with SIGKILL at iteration 6 (epoch 2 of 4 iters)
    (root / 'crash_killed.py').write_text(
        "_base_ = './crash.py'\n"
        "custom_hooks = _base_.custom_hooks + [\n"
        "    dict(type='SigkillAtIterHook', iter=6)]\n")
    return root


def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(toy_dir):
    cwd = str(toy_dir)
    full, crashed = str(toy_dir / 'full'), str(toy_dir / 'crashed')
    train(cwd, 'crash.py', full)

    proc = train(cwd, 'crash_killed.py', crashed, check=False)
    assert proc.returncode == -9, proc.stderr[-3000:]
    assert osp.isfile(osp.join(crashed, 'epoch_1.pth'))
    assert not osp.exists(osp.join(crashed, 'epoch_2.pth'))
    # the kill came after iteration 6, mid-epoch 2
    assert max(scalars(crashed)) == 6

    # `--resume` without a path: from last_checkpoint (epoch 1, iter 4)
    proc = train(cwd, 'crash.py', crashed, '--resume')
    assert 'resumed epoch: 1, iter: 4' in proc.stdout + proc.stderr
    resumed, reference = scalars(crashed), scalars(full)
    assert sorted(resumed) == list(range(5, 13))
    for it in resumed:
        for key in ('lr', 'distill_coef', 'loss', 'loss_distill',
                    'teacher.loss_cls'):
            # same LR, lambda, optimizer state and random flips
            assert resumed[it][key] == pytest.approx(
                reference[it][key], rel=1e-5, abs=1e-7), (it, key)
    assert resumed[12]['distill_coef'] == 2.0

    a = load_state(osp.join(full, 'epoch_3.pth'))
    b = load_state(osp.join(crashed, 'epoch_3.pth'))
    for key, value in a['state_dict'].items():
        torch.testing.assert_close(b['state_dict'][key], value, rtol=1e-5,
                                   atol=1e-6, msg=key)
    momentum_a = a['optimizer']['state']
    momentum_b = b['optimizer']['state']
    for idx in momentum_a:
        torch.testing.assert_close(momentum_b[idx]['momentum_buffer'],
                                   momentum_a[idx]['momentum_buffer'],
                                   rtol=1e-5, atol=1e-6)


def test_resume_skips_an_incomplete_latest_checkpoint(toy_dir):
    cwd = str(toy_dir)
    work_dir = str(toy_dir / 'truncated')
    train(cwd, 'crash.py', work_dir, '--cfg-options',
          'train_cfg.max_epochs=2')
    # a crash while another writer wrote epoch_2.pth: a truncated file
    latest = osp.join(work_dir, 'epoch_2.pth')
    with open(latest, 'rb') as f:
        head = f.read(1000)
    with open(latest, 'wb') as f:
        f.write(head)
    proc = train(cwd, 'crash.py', work_dir, '--resume', '--cfg-options',
                 'train_cfg.max_epochs=2')
    log = proc.stdout + proc.stderr
    assert 'the newest complete checkpoint' in log
    assert 'resumed epoch: 1, iter: 4' in log
    assert max(scalars(work_dir)) == 8


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _same_layout_coco(root, num=4, size=64):
    """Images of different content, each with one object at the same place,
    so each image has the same number of positive anchors and per-process
    losses average to the global-batch loss."""
    rng = np.random.RandomState(0)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    images, annotations = [], []
    for i in range(num):
        img = rng.randint(0, 80, (size, size, 3)).astype(np.uint8)
        color = tuple(int(c) for c in rng.randint(100, 256, 3))
        cv2.rectangle(img, (12, 16), (43, 39), color, -1)
        name = f'{i}.png'
        cv2.imwrite(osp.join(root, 'images', name), img)
        images.append(dict(id=i + 1, file_name=name, width=size, height=size))
        annotations.append(dict(id=i + 1, image_id=i + 1,
                                category_id=i % len(TOY_CLASSES) + 1,
                                bbox=[12, 16, 32, 24], area=768.0,
                                iscrowd=0))
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(TOY_CLASSES)]
    for split in ('train', 'val'):
        with open(osp.join(root, f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)


DDP_CONFIG = f'''
_base_ = {TOY!r}
custom_imports = dict(imports=['mmdet_sssd', 'probe_hooks'],
                      allow_failed_imports=False)
# SyncBN in the student's backbone; the first epoch (one iteration) in the
# distillation warm-up with a frozen backbone: parameters without gradient.
model = dict(
    detector=dict(backbone=dict(norm_cfg=dict(type='SyncBN'))),
    distill_warmup=1, backbone_freeze=1, by_epoch=True)
train_dataloader = dict(batch_size=4, sampler=dict(shuffle=False))
train_cfg = dict(max_epochs=2, val_interval=10)
param_scheduler = []
randomness = dict(seed=0)
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook', rule='constant'),
    dict(type='RecordRankStateHook')
]
'''


def test_ddp_two_processes_match_one_process(tmp_path):
    _same_layout_coco(str(tmp_path / 'data' / 'toy'))
    (tmp_path / 'ddp.py').write_text(DDP_CONFIG)
    single, multi = str(tmp_path / 'single'), str(tmp_path / 'multi')
    train(str(tmp_path), 'ddp.py', single)
    env = dict(os.environ, PORT=_free_port(), PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1', PYTHONPATH=HERE)
    # the same global batch of 4 images as 2 processes x 2 images
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), 'ddp.py', '2',
         '--work-dir', multi, '--cfg-options',
         'train_dataloader.batch_size=2'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-6000:]
    assert 'run on the CPU with gloo' in proc.stderr

    def read(name):
        with open(osp.join(name)) as f:
            return json.load(f)

    ref = read(osp.join(single, 'rank0.json'))
    ranks = [read(osp.join(multi, f'rank{r}.json')) for r in (0, 1)]
    # Losses of the first iteration: mean over processes = global batch.
    for key, value in ref['losses'].items():
        mean = (ranks[0]['losses'][key] + ranks[1]['losses'][key]) / 2
        assert mean == pytest.approx(value, rel=1e-4, abs=1e-6), key
    # Every parameter and buffer (teacher, adapter, SyncBN statistics)
    # is the same in both processes and matches the single process.
    assert ranks[0]['state'].keys() == ref['state'].keys()
    synced = [k for k in ref['state']
              if k.startswith(('terms.0.teacher.', 'terms.0.adapter.'))]
    assert synced
    for key, value in ref['state'].items():
        a, b = (torch.tensor(r['state'][key]) for r in ranks)
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=key)
        torch.testing.assert_close(a, torch.tensor(value), rtol=1e-4,
                                   atol=1e-6, msg=key)
