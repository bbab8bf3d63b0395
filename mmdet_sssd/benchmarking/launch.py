# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The command lines of a benchmark's trainings and scorings: the plugin's
``tools/train.py``, ``tools/test.py`` or ``tools/analysis_tools/
eval_teacher.py``, each in one process or through mmengine's launchers on
several GPUs or nodes (torchrun as ``tools/dist_train.sh`` does, or
Slurm's ``srun`` as mmdet's ``slurm_train.sh``)."""
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import List, Optional

from mmdet_sssd.utils.mmdet_tools import tools_dir

LAUNCHERS = ('none', 'pytorch', 'slurm')


@dataclass
class Launcher:
    """How a tool of the plugin is started.

    Args:
        kind (str): ``'none'`` (one process), ``'pytorch'`` (torchrun on
            this node, or on ``NNODES`` nodes with ``NODE_RANK`` and
            ``MASTER_ADDR`` from the environment, as in
            ``tools/dist_train.sh``) or ``'slurm'`` (``srun``).
        gpus (int): Processes of one run: GPUs in all (over every node).
        gpus_per_node (int): With ``slurm``: tasks (GPUs) per node.
        partition (str, optional): With ``slurm``: its ``-p``.
        port (int): With ``pytorch``: the first master port; the runs
            started at once get consecutive ones.
        srun_args (list[str]): More ``srun`` options.
    """
    kind: str = 'none'
    gpus: int = 1
    gpus_per_node: int = 8
    partition: Optional[str] = None
    port: int = 29500
    srun_args: List[str] = field(default_factory=list)

    def __post_init__(self):
        if self.kind not in LAUNCHERS:
            raise ValueError(f'launcher {self.kind!r}: not one of '
                             f'{LAUNCHERS}')
        if self.gpus < 1 or self.gpus_per_node < 1:
            raise ValueError('gpus and gpus_per_node must be at least 1')

    def command(self, script: str, args: List[str], options: List[str],
                slot: int = 0, distributed: bool = True) -> List[str]:
        """The command that runs ``script`` with its ``args`` and
        ``--cfg-options options``; ``slot`` tells runs started at once
        apart (their torchrun ports). A script that is not
        ``distributed`` (no ``--launcher`` option) runs in one process."""
        tail = ['--cfg-options'] + options if options else []
        if self.kind == 'none' or not distributed:
            return [sys.executable, script] + args + tail
        launcher = ['--launcher', self.kind]
        if self.kind == 'pytorch':
            env = os.environ.get
            return [sys.executable, '-m', 'torch.distributed.run',
                    f'--nnodes={env("NNODES", "1")}',
                    f'--node_rank={env("NODE_RANK", "0")}',
                    f'--master_addr={env("MASTER_ADDR", "127.0.0.1")}',
                    f'--nproc_per_node={self.gpus}',
                    f'--master_port={self.port + slot}', script
                    ] + args + launcher + tail
        per_node = min(self.gpus, self.gpus_per_node)
        partition = ['-p', self.partition] if self.partition else []
        return ['srun'] + partition + [
            f'--job-name={osp.splitext(osp.basename(script))[0]}',
            f'--gres=gpu:{per_node}', f'--ntasks={self.gpus}',
            f'--ntasks-per-node={per_node}', '--kill-on-bad-exit=1'
        ] + self.srun_args + [sys.executable, '-u', script
                              ] + args + launcher + tail


def add_launcher_arguments(parser) -> None:
    """The command-line options of a :class:`Launcher`
    (:func:`launcher_from_args` reads them back)."""
    for flag, kwargs in (
            ('--launcher', dict(choices=LAUNCHERS, default='none')),
            ('--gpus', dict(type=int, default=1, help='GPUs (processes) '
                            'of each run, over all nodes')),
            ('--gpus-per-node', dict(type=int, default=8,
                                     help='with --launcher slurm')),
            ('--partition', dict(help='with --launcher slurm: srun -p')),
            ('--srun-args', dict(nargs='+', default=[], help='with '
                                 '--launcher slurm: more srun options')),
            ('--port', dict(type=int, default=29500, help='with --launcher '
                            'pytorch: the first master port'))):
        parser.add_argument(flag, **kwargs)


def launcher_from_args(args) -> Launcher:
    """The :class:`Launcher` of :func:`add_launcher_arguments`' options."""
    return Launcher(args.launcher, args.gpus, args.gpus_per_node,
                    args.partition, args.port, args.srun_args)


def tool(name: str) -> str:
    """The path of one of the plugin's tools, e.g.
    ``'analysis_tools/eval_teacher.py'``."""
    return osp.join(tools_dir(), name)


def train_command(launcher: Launcher, config: str, work_dir: str,
                  options: List[str], slot: int = 0) -> List[str]:
    """``tools/train.py`` on ``config`` into ``work_dir``."""
    return launcher.command(tool('train.py'),
                            [config, '--work-dir', work_dir], options, slot)


def test_command(launcher: Launcher, config: str, checkpoint: str,
                 work_dir: str, options: List[str], teacher: bool = False,
                 slot: int = 0) -> List[str]:
    """Scores ``checkpoint`` on the config's test set into ``work_dir``:
    ``tools/test.py``, or with a label ``teacher``
    ``tools/analysis_tools/eval_teacher.py`` (the student and its
    teacher, in one process)."""
    script = tool('analysis_tools/eval_teacher.py' if teacher else 'test.py')
    return launcher.command(script, [config, checkpoint, '--work-dir',
                                     work_dir], options, slot,
                            distributed=not teacher)
