# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The command lines of the trainings and scorings, per launcher."""
import os.path as osp
import sys

import pytest

from mmdet_sssd.benchmarking import Launcher, train_command
from mmdet_sssd.benchmarking.launch import test_command as score_command
from mmdet_sssd.utils import tools_dir


def test_one_process_runs_the_tool_itself():
    cmd = train_command(Launcher(), 'a.py', 'w', ['x=1'])
    assert cmd == [sys.executable, osp.join(tools_dir(), 'train.py'), 'a.py',
                   '--work-dir', 'w', '--cfg-options', 'x=1']
    # a label teacher is scored by eval_teacher.py
    cmd = score_command(Launcher(), 'a.py', 'c.pth', 'w', [], teacher=True)
    assert cmd == [sys.executable,
                   osp.join(tools_dir(), 'analysis_tools', 'eval_teacher.py'),
                   'a.py', 'c.pth', '--work-dir', 'w']
    assert osp.isfile(cmd[1])


def test_pytorch_launcher_is_torchrun_as_dist_train_sh(monkeypatch):
    monkeypatch.setenv('NNODES', '2')
    monkeypatch.setenv('NODE_RANK', '1')
    monkeypatch.setenv('MASTER_ADDR', '10.0.0.1')
    launcher = Launcher('pytorch', gpus=8, port=29600)
    cmd = train_command(launcher, 'a.py', 'w', ['x=1'], slot=3)
    assert cmd[:3] == [sys.executable, '-m', 'torch.distributed.run']
    assert cmd[3:8] == ['--nnodes=2', '--node_rank=1',
                        '--master_addr=10.0.0.1', '--nproc_per_node=8',
                        '--master_port=29603']
    # --launcher before --cfg-options (which takes the rest)
    assert cmd[9:] == ['a.py', '--work-dir', 'w', '--launcher', 'pytorch',
                       '--cfg-options', 'x=1']
    # eval_teacher.py has no --launcher: one process
    cmd = score_command(launcher, 'a.py', 'c.pth', 'w', [], teacher=True)
    assert cmd[0] == sys.executable and 'torch.distributed.run' not in cmd
    cmd = score_command(launcher, 'a.py', 'c.pth', 'w', [])
    assert cmd[-2:] == ['--launcher', 'pytorch']


def test_slurm_launcher_spreads_the_gpus_over_nodes():
    launcher = Launcher('slurm', gpus=16, gpus_per_node=8, partition='p',
                        srun_args=['--time=1:00:00'])
    cmd = train_command(launcher, 'a.py', 'w', [])
    assert cmd[:3] == ['srun', '-p', 'p']
    assert {'--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
            '--time=1:00:00'} <= set(cmd)
    assert cmd[-5:] == ['a.py', '--work-dir', 'w', '--launcher', 'slurm']
    assert Launcher('slurm', gpus=2).command('t.py', [], [])[1:5] == [
        '--job-name=t', '--gres=gpu:2', '--ntasks=2', '--ntasks-per-node=2']


def test_unknown_launcher_or_no_gpu_is_an_error():
    with pytest.raises(ValueError, match='launcher'):
        Launcher('mpi')
    with pytest.raises(ValueError, match='at least 1'):
        Launcher('pytorch', gpus=0)


def test_launcher_from_the_command_line():
    import argparse

    from mmdet_sssd.benchmarking.launch import (add_launcher_arguments,
                                                launcher_from_args)
    parser = argparse.ArgumentParser()
    add_launcher_arguments(parser)
    launcher = launcher_from_args(parser.parse_args(
        ['--launcher', 'slurm', '--gpus', '16', '--partition', 'p']))
    assert launcher == Launcher('slurm', gpus=16, partition='p')
    assert launcher_from_args(parser.parse_args([])) == Launcher()
