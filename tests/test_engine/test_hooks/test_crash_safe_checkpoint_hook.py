# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""CrashSafeCheckpointHook: atomic checkpoint writes and resuming past an
incomplete checkpoint, turned on by the config, on the toy SSSD RetinaNet."""
import glob
import itertools
import os
import os.path as osp

import pytest
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd import CrashSafeCheckpointHook
from mmdet_sssd.testing import make_toy_coco
from mmdet_sssd.utils import AtomicLocalBackend, is_complete_checkpoint

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')
_names = itertools.count()


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('crash_safe')
    make_toy_coco(str(root / 'data' / 'toy'))
    return root


def make_runner(toy_root, work_dir, max_epochs, **kwargs):
    cfg = Config.fromfile(TOY)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'crash_safe_{next(_names)}'
    cfg.log_level = 'WARNING'
    cfg.train_cfg.max_epochs = max_epochs
    cfg.train_cfg.val_interval = 100
    for dataloader in (cfg.train_dataloader, cfg.val_dataloader):
        dataloader.dataset.data_root = str(toy_root / 'data' / 'toy')
    cfg.val_evaluator.ann_file = str(toy_root / 'data' / 'toy' / 'val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.merge_from_dict(kwargs)
    return Runner.from_cfg(cfg)


def checkpoint_hook(runner):
    return next(h for h in runner.hooks if type(h).__name__.endswith(
        'CheckpointHook'))


def test_shipped_configs_turn_it_on():
    for path in glob.glob(osp.join(ROOT, 'configs', '*', '*.py')):
        if '_base_' in path:  # pieces, not configs
            continue
        cfg = Config.fromfile(path)
        if 'mmdet_sssd' in str(cfg.get('custom_imports')):
            assert cfg.default_hooks.checkpoint.type == \
                'CrashSafeCheckpointHook', path


def test_atomic_writes_survive_a_crash_during_a_save(toy_root, tmp_path,
                                                     monkeypatch):
    work_dir = tmp_path / 'work'
    runner = make_runner(toy_root, work_dir, max_epochs=2)
    hook = checkpoint_hook(runner)
    assert isinstance(hook, CrashSafeCheckpointHook)

    replace = os.replace

    def die_while_saving_epoch_2(src, dst):
        if str(dst).endswith('epoch_2.pth'):
            raise KeyboardInterrupt  # killed before the rename
        replace(src, dst)

    monkeypatch.setattr(os, 'replace', die_while_saving_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    monkeypatch.undo()
    assert isinstance(hook.file_backend, AtomicLocalBackend)
    # epoch 1 is whole, epoch 2 never appeared, no temporary file is left
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    assert not list(work_dir.glob('.*.tmp'))
    assert is_complete_checkpoint(str(work_dir / 'epoch_1.pth'))
    # mmengine's own local backend was not replaced
    assert type(get_file_backend(str(work_dir))) is LocalBackend

    resumed = make_runner(toy_root, work_dir, max_epochs=2, resume=True)
    resumed.train()
    assert resumed.iter == 8
    assert is_complete_checkpoint(str(work_dir / 'epoch_2.pth'))


def test_resume_skips_an_incomplete_latest_checkpoint(toy_root, tmp_path):
    work_dir = tmp_path / 'work'
    make_runner(toy_root, work_dir, max_epochs=2).train()
    latest = work_dir / 'epoch_2.pth'
    latest.write_bytes(latest.read_bytes()[:1000])  # another writer crashed

    runner = make_runner(toy_root, work_dir, max_epochs=2, resume=True)
    runner.train()
    assert runner._load_from == str(work_dir / 'epoch_1.pth')
    assert runner.iter == 8 and runner.epoch == 2
    assert is_complete_checkpoint(str(latest))


def test_resume_with_no_complete_checkpoint_says_so(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    with pytest.raises(FileNotFoundError, match='start over'):
        CrashSafeCheckpointHook._resumable(str(tmp_path))
    # no pointer: mmengine's choice (start from scratch) stands
    os.remove(tmp_path / 'last_checkpoint')
    assert CrashSafeCheckpointHook._resumable(str(tmp_path)) is None


def test_backend_args_of_the_user_are_kept(toy_root, tmp_path):
    runner = make_runner(
        toy_root, tmp_path / 'work', max_epochs=1,
        default_hooks=dict(checkpoint=dict(backend_args=dict(
            backend='local'))))
    runner.train()
    assert type(checkpoint_hook(runner).file_backend) is LocalBackend
