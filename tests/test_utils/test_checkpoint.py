# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Atomic checkpoint writes (opt-in) and the choice of checkpoint to resume
from."""
import os
import os.path as osp
import time

import pytest
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.runner import save_checkpoint

import mmdet_sssd  # noqa: F401
from mmdet_sssd.utils import (AtomicLocalBackend, find_resumable_checkpoint,
                              is_complete_checkpoint, register_atomic_backend)


def test_atomic_backend_is_opt_in(tmp_path):
    path = str(tmp_path / 'x.pth')
    # importing mmdet_sssd leaves mmengine's local backend as it is
    assert type(get_file_backend(path)) is LocalBackend
    args = register_atomic_backend()
    assert isinstance(get_file_backend(path, backend_args=args),
                      AtomicLocalBackend)
    assert type(get_file_backend(path)) is LocalBackend  # still


def test_crash_during_a_write_keeps_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'epoch_1.pth')
    args = register_atomic_backend()
    save_checkpoint({'state_dict': {'w': torch.ones(3)}}, path,
                    backend_args=args)
    assert is_complete_checkpoint(path)

    def crash(src, dst):  # the process dies before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'replace', crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({'state_dict': {'w': torch.zeros(3)}}, path,
                        backend_args=args)
    monkeypatch.undo()
    ckpt = torch.load(path, weights_only=True)
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(3))
    assert os.listdir(tmp_path) == ['epoch_1.pth']  # no temporary left


def test_written_file_is_complete_with_default_permissions(tmp_path):
    path = str(tmp_path / 'sub' / 'iter_2.pth')
    save_checkpoint({'meta': {'iter': 2}}, path,
                    backend_args=register_atomic_backend())
    assert is_complete_checkpoint(path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def _write(path, value, mtime):
    torch.save({'v': value}, path)
    os.utime(path, (mtime, mtime))


def test_truncated_file_is_incomplete(tmp_path):
    path = str(tmp_path / 'a.pth')
    _write(path, torch.ones(1000), time.time())
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    assert not is_complete_checkpoint(path)
    assert not is_complete_checkpoint(str(tmp_path / 'missing.pth'))


def test_find_resumable_checkpoint(tmp_path):
    work_dir = str(tmp_path)
    assert find_resumable_checkpoint(work_dir) is None
    now = time.time()
    first, second = (osp.join(work_dir, f'epoch_{i}.pth') for i in (1, 2))
    _write(first, torch.ones(10), now - 10)
    _write(second, torch.ones(10), now)
    pointer = osp.join(work_dir, 'last_checkpoint')
    with open(pointer, 'w') as f:
        f.write(second)
    assert find_resumable_checkpoint(work_dir) == second
    # the newest checkpoint is truncated: fall back to the previous one
    with open(second, 'r+b') as f:
        f.truncate(100)
    assert find_resumable_checkpoint(work_dir) == first
    # an empty pointer (a crash while it was written)
    with open(pointer, 'w'):
        pass
    assert find_resumable_checkpoint(work_dir) == first
