# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A paired multi-seed comparison of any configs: every arm trained on every
seed with the same initial student and the same data order for all arms of
a seed, each last checkpoint scored on the config's test set, one record
per run (``run.json`` in its work dir, ``results.json`` for the job).

The records are those of ``mmdet_sssd.analysis.paired_comparison``: an
arm's difference to another, paired by seed, cancels what the seed alone
decides."""
import glob
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence, Tuple

from mmdet_sssd.utils.mmdet_tools import package_root
from mmdet_sssd.version import __version__
from .launch import Launcher, test_command, train_command
from .pool import phase, run_all
from .run_records import (agnostic_test_options, code_version, curves,
                          machine, read_scalars, read_test_metrics,
                          scores_teacher, test_record)
from .weight_averaging import ema_config, raw_weights

Key = Tuple[str, int]


def seed_options(seed: int) -> List[str]:
    """The same seed and data order in every arm: the seed draws the
    initial weights not loaded from a checkpoint, and the sampler's."""
    return [f'randomness.seed={seed}', f'train_dataloader.sampler.seed={seed}']


class PairedJob:
    """Trains and scores arms over seeds; a subclass adds options and
    record fields per arm (:meth:`arm_options`, :meth:`record_fields`).

    Args:
        arms (dict): ``{name: config path}``; a name is the record's
            ``method``.
        work_dir (str): Each run in ``<work_dir>/<name>_seed<seed>``.
        experiment (str): Label stored in each record.
        launcher (Launcher): How trainings and scorings start.
        jobs (int): Runs at once (several: their logs go to files).
        threads (int): Torch threads of each run.
        cfg_options (list[str]): ``key=value`` options for every training,
            after the job's own.
        test_options (list[str]): Options of each scoring (e.g. another
            test split).
        test_fields (dict): Fields added to a record with its test AP.
        cwd (str): Where the runs start (relative paths in the configs).
        command (str): The job's command line, recorded.
        device (str): ``'cpu'`` or ``'cuda'``, recorded with the machine.
        ema_momentum (float, optional): Train every arm with mmengine's
            ``EMAHook`` at this momentum
            (:mod:`~mmdet_sssd.benchmarking.weight_averaging`); a record's
            AP is then the averaged weights', and ``raw_AP``... the raw
            final weights' of the same run. Defaults to None (no
            averaging).
    """

    def __init__(self, arms: Dict[str, str], work_dir: str,
                 experiment: str, launcher: Optional[Launcher] = None,
                 jobs: int = 1, threads: int = 1,
                 cfg_options: Sequence[str] = (),
                 test_options: Sequence[str] = (),
                 test_fields: Optional[dict] = None, cwd: str = '.',
                 command: str = '', device: str = 'cpu',
                 ema_momentum: Optional[float] = None):
        self.arms = dict(arms)
        self.work_dir = work_dir
        self.experiment = experiment
        self.launcher = launcher or Launcher()
        self.jobs, self.threads = jobs, threads
        self.cfg_options = list(cfg_options)
        self.test_options = list(test_options)
        self.test_fields = dict(test_fields or {})
        self.cwd, self.command, self.device = cwd, command, device
        self.ema_momentum = ema_momentum
        self._ema_configs: Dict[str, str] = {}
        # a regular install has no commit: its version says what ran
        self.code = (code_version(package_root())
                     or f'mmdet_sssd {__version__} (installed)')
        self._slots = 0

    # -------------------------------------------------- what a subclass adds
    def arm_options(self, arm: str, seed: int) -> List[str]:
        """Options of ``arm``'s training on ``seed``, before the seed's."""
        return []

    def record_fields(self, arm: str, seed: int) -> dict:
        """Fields of ``arm``'s record after its cost (e.g. its schedule)."""
        return {}

    # ------------------------------------------------------------- the runs
    def run_dir(self, arm: str, seed: int) -> str:
        return osp.join(self.work_dir, f'{arm}_seed{seed}')

    def _slot(self) -> int:
        """A number per started command (its torchrun port offset)."""
        self._slots = (self._slots + 1) % 1000
        return self._slots

    def config(self, arm: str) -> str:
        """The config ``arm`` trains: its own, or with ``EMAHook`` added
        (written into ``<work_dir>/ema_configs``)."""
        if self.ema_momentum is None:
            return self.arms[arm]
        if arm not in self._ema_configs:  # written once, not per seed
            self._ema_configs[arm] = ema_config(
                osp.join(self.cwd, self.arms[arm]),
                osp.abspath(osp.join(self.work_dir, 'ema_configs')),
                self.ema_momentum)
        return self._ema_configs[arm]

    def train_task(self, arm: str, seed: int) -> tuple:
        """The (key, what, command, log file) task of one training."""
        run_dir = self.run_dir(arm, seed)
        options = (self.arm_options(arm, seed) + seed_options(seed) +
                   self.cfg_options)
        cmd = train_command(self.launcher, self.config(arm), run_dir,
                            options, self._slot())
        # one job streams mmengine's log; several write it to files
        log = None if self.jobs == 1 else osp.join(run_dir, 'train.log')
        return (arm, seed), 'training', cmd, log

    def score_task(self, arm: str, seed: int, raw: bool = False,
                   agnostic: Sequence[str] = ()) -> tuple:
        """The task that scores the run's last checkpoint on the test set
        (with its label teacher where it has one, then class-agnostically
        too) into ``<run_dir>/test``; with ``raw``, a run with
        ``EMAHook``'s raw weights into ``<run_dir>/test_raw``; with
        ``agnostic`` (the run's :func:`agnostic_test_options`), a run
        without a label teacher class-agnostically into
        ``<run_dir>/test_agnostic``."""
        run_dir = self.run_dir(arm, seed)
        with open(osp.join(run_dir, 'last_checkpoint')) as f:
            checkpoint = f.read().strip()
        if raw:
            checkpoint = raw_weights(checkpoint)
        config = glob.glob(osp.join(run_dir, '*.py'))[0]
        out = 'test_raw' if raw else 'test_agnostic' if agnostic else 'test'
        options = self.test_options + list(agnostic)
        cmd = test_command(self.launcher, config, checkpoint,
                           osp.join(run_dir, out), options,
                           scores_teacher(run_dir), self._slot())
        what = ' (raw)' if raw else ' (class-agnostic)' if agnostic else ''
        return ((arm, seed), f'scoring on the test split{what}', cmd,
                osp.join(run_dir, f'{out}.log'))

    def score_tasks(self, arm: str, seed: int) -> List[tuple]:
        """The run's scorings: its weights, with weight averaging also its
        raw weights, and without a label teacher (whose scoring is
        class-agnostic too) its weights class-agnostically where its test
        metric is a ``CocoMetric``: is a difference in finding boxes or in
        naming their class?"""
        tasks = [self.score_task(arm, seed, raw) for raw in
                 ([False, True] if self.ema_momentum is not None
                  else [False])]
        agnostic = agnostic_test_options(self.run_dir(arm, seed))
        if agnostic:
            tasks.append(self.score_task(arm, seed, agnostic=agnostic))
        return tasks

    def train_record(self, arm: str, seed: int, seconds: float,
                     peak_mb: float, cpu_s: float) -> dict:
        """The finished training's record: its cost, what and where it
        ran, and its curves (val AP per validation, lambda and LR)."""
        run = dict(experiment=self.experiment, method=arm, seed=seed)
        run.update(
            train_s=round(seconds, 1), cpu_s=round(cpu_s, 1),
            peak_mb=round(peak_mb), **self.record_fields(arm, seed),
            config=self.arms[arm], cfg_options=self.cfg_options,
            ema_momentum=self.ema_momentum,
            threads=self.threads, jobs=self.jobs, command=self.command,
            device=self.device, machine=machine(self.device),
            date=time.strftime('%Y-%m-%d'),
            # the machine's load when the run ended: others' work slows it
            load_1min=round(os.getloadavg()[0], 1), code=self.code,
            **curves(*read_scalars(self.run_dir(arm, seed))))
        return run

    def write(self, run: dict) -> None:
        with open(osp.join(self.run_dir(run['method'], run['seed']),
                           'run.json'), 'w') as f:
            json.dump(run, f)

    def add_test(self, run: dict) -> None:
        """The run's AP (and its teacher's) from its scoring in
        ``<run_dir>/test``; the validation's last values as ``val_*``.
        Saved to the run's record."""
        for name in ['AP', 'teacher_AP', 'teacher_agnostic_AP',
                     'agnostic_AP']:
            curve = run.get(f'{name[:-3]}_val_ap' if name != 'AP' else
                            'val_ap')
            if curve:
                run[f'val_{name}'] = curve[-1]
            run.pop(name, None)  # a record of val only: not the test's
        run_dir = self.run_dir(run['method'], run['seed'])
        metrics = read_test_metrics(run_dir)
        if osp.isdir(osp.join(run_dir, 'test_agnostic')):
            # its own scoring's coco_agnostic/*: test_record reads them
            metrics.update(read_test_metrics(run_dir, 'test_agnostic',
                                             ['coco_agnostic/']))
        run.update(test_record(metrics), split='test', **self.test_fields)
        if self.ema_momentum is not None:
            raw = test_record(read_test_metrics(run_dir, 'test_raw'))
            run.update({f'raw_{k}': v for k, v in raw.items()})
        self.write(run)

    def reuse(self, arm: str, seed: int) -> Optional[dict]:
        """The finished run's record (a run dir with its ``run.json``),
        scored first if it was recorded before its scoring; None if
        there is none."""
        path = osp.join(self.run_dir(arm, seed), 'run.json')
        if not osp.isfile(path):
            return None
        with open(path) as f:
            run = json.load(f)
        self.check_reusable(run, path)
        if run.get('split') != 'test':  # a record of val only
            phase(f'{arm}, seed {seed}: scoring the finished run on the '
                  f'test split')
            list(run_all(self.score_tasks(arm, seed), 1, self.threads,
                         self.cwd))
            self.add_test(run)  # its own experiment label
        run['experiment'] = self.experiment
        if 'train_loss' not in run:  # recorded before the loss curves were
            run.update(curves(*read_scalars(self.run_dir(arm, seed))))
        phase(f'{arm}, seed {seed}: reusing the finished run')
        return run

    def check_reusable(self, run: dict, path: str) -> None:
        """Raises ValueError if the finished run's record ``run`` (read
        from ``path``) is not a run of this job's (none by default)."""

    def run(self, todo: Sequence[Key]) -> List[dict]:
        """Trains the (arm, seed) runs of ``todo``, each then scored in the
        queue of the same ``jobs`` slots; their records as they end."""
        tasks = [self.train_task(arm, seed) for arm, seed in todo]
        trained, scorings, runs = {}, {}, []
        for key, seconds, peak_mb, cpu_s in run_all(tasks, self.jobs,
                                                    self.threads, self.cwd):
            if key not in trained:
                trained[key] = self.train_record(*key, seconds, peak_mb,
                                                 cpu_s)
                # the val record first: a job stopped while scoring
                # resumes (skip_existing) by scoring it
                self.write(trained[key])
                scorings[key] = self.score_tasks(*key)
                tasks.append(scorings[key].pop(0))
                continue
            if scorings[key]:  # the raw weights' scoring, after the first
                tasks.append(scorings[key].pop(0))
                continue
            run = trained[key]
            self.add_test(run)
            runs.append(run)
            phase(f'{key[0]}, seed {key[1]}: test AP {run["AP"]:.1f} '
                  f'(trained in {run["train_s"]:.0f} s)')
        return runs

    def write_results(self, runs: List[dict], arms: Sequence[str]
                      ) -> List[dict]:
        """``results.json``: the records of ``runs`` by arm (in the order
        of ``arms``) and seed, without their curves, returned; and
        ``curves.json``: the same runs' curves (val AP per validation,
        train losses per epoch), keyed by experiment, method and seed."""
        order = {arm: i for i, arm in enumerate(arms)}
        runs.sort(key=lambda r: (order[r['method']], r['seed']))

        def is_curve(key):
            return key.endswith('val_ap') or key == 'train_loss'

        records = [{k: v for k, v in r.items()
                    if not is_curve(k) and k != 'schedule'} for r in runs]
        with open(osp.join(self.work_dir, 'results.json'), 'w') as f:
            json.dump(records, f, indent=1)
        with open(osp.join(self.work_dir, 'curves.json'), 'w') as f:
            json.dump([{k: v for k, v in r.items()
                        if is_curve(k) or k in ('experiment', 'method',
                                                'seed')} for r in runs],
                      f, indent=1)
        return records
