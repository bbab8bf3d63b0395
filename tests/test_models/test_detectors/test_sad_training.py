# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""SAD training through mmengine's runner: labeled and pseudo-labeled
images mixed by mmdet's GroupMultiSourceSampler, the pretrained teacher's
ADL on both, and an exact mid-run resume."""
import os.path as osp

import torch
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing.smoke_config import cpu_smoke_config

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIG = osp.join(ROOT, 'configs', 'digits', 'sad_retinanet_r18_fpn_digits.py')


class BatchProbe(Hook):
    """Which images each training batch held, and its losses."""

    def __init__(self):
        self.batches, self.losses = [], []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.batches.append([osp.basename(s.img_path)
                             for s in data_batch['data_samples']])
        self.losses.append({k: float(v) for k, v in outputs.items()})


def sad_cfg(tmp_path, name, iters=4, ratio=(1, 3), **extra):
    """The digits SAD config on a tiny set: source 0 (labeled) is
    ``train_*.png``, source 1 (pseudo-labeled) ``val_*.png``."""
    cfg = cpu_smoke_config(Config.fromfile(CONFIG), str(tmp_path / 'data'),
                           str(tmp_path / name), num_train=8,
                           experiment_name=f'sad_{name}_{id(tmp_path)}')
    cfg.visualizer.name = f'sad_vis_{name}_{id(tmp_path)}'
    loader = cfg.train_dataloader
    loader.dataset.datasets[1].ann_file = 'val.json'
    loader.batch_size = loader.sampler.batch_size = sum(ratio)
    loader.sampler.source_ratio = list(ratio)
    cfg.train_cfg.update(max_iters=iters, val_interval=100)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0,
                                by_epoch=False)]
    cfg.default_hooks.checkpoint.update(interval=2, max_keep_ckpts=3)
    cfg.randomness = dict(seed=0, deterministic=True)
    cfg.merge_from_dict(extra)
    return cfg


def train(cfg, **kwargs):
    cfg.update(kwargs)
    runner = Runner.from_cfg(cfg)
    probe = BatchProbe()
    runner.register_hook(probe)
    runner.train()
    return runner, probe


def test_mixed_batches_follow_the_ratio_and_train_the_student_only(
        tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner, probe = train(sad_cfg(tmp_path, 'ratio', iters=3))
    for batch in probe.batches:  # 1 labeled + 3 pseudo-labeled, always
        assert sorted(n.split('_')[0] for n in batch) == \
            ['train', 'val', 'val', 'val'], batch
    model = runner.model
    frozen = model.pretrained_teacher.model
    saved = torch.load(
        runner.cfg.model.pretrained_teacher.checkpoint,
        weights_only=True)['state_dict']
    for key, value in frozen.state_dict().items():  # never trained
        assert torch.equal(value, saved[key]), key
    assert all(p.grad is None for p in frozen.parameters())
    for losses in probe.losses:
        assert losses['loss_pt_logits'] > 0
        assert all(map(lambda v: torch.isfinite(torch.tensor(v)),
                       losses.values()))
    # the student moved
    fresh = Runner.from_cfg(sad_cfg(tmp_path, 'fresh', iters=0))
    fresh.model.init_weights()
    moved = [not torch.equal(a, b) for a, b in zip(
        model.student.bbox_head.parameters(),
        fresh.model.student.bbox_head.parameters())]
    assert any(moved)


def test_resume_mid_run_continues_the_same_batches(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    _, whole = train(sad_cfg(tmp_path, 'whole', ratio=(1, 1)))
    first, _ = train(sad_cfg(tmp_path, 'part', ratio=(1, 1), iters=2))
    ckpt = osp.join(first.work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    resumed_cfg = sad_cfg(tmp_path, 'resumed', ratio=(1, 1))
    _, resumed = train(resumed_cfg, resume=True, load_from=ckpt)
    assert len(resumed.batches) == 2
    assert resumed.batches == whole.batches[2:]
    for got, expected in zip(resumed.losses, whole.losses[2:]):
        for key in expected:
            assert abs(got[key] - expected[key]) <= 1e-4 * max(
                1.0, abs(expected[key])), key
