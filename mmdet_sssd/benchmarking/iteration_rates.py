# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""How fast trainings ran: seconds per iteration of a job's runs.

A probe of a job's speed (``tools/benchmarks/digits_rate_probe.sh``) runs
several trainings at once for a while and stops them; this reads each
run's logged ``time`` and ``data_time`` (mmengine's mean over each
logging interval, from the run's scalars: :func:`read_scalars`) and
tabulates, per arm, the mean seconds per iteration of its runs and the
iterations per second of all runs together.
"""
import glob
import os.path as osp
import re
import statistics
from typing import Dict, List

from .run_records import read_scalars, scalars_files

_RUN_DIR = re.compile(r'^(?P<arm>.+)_seed(?P<seed>\d+)$')


def probe_times(work_dir: str) -> Dict[str, Dict[str, List[float]]]:
    """``{run: {'time': [...], 'data_time': [...]}}``: one value per
    logged training interval of each run ``<work_dir>/<arm>_seed<N>``
    that logged any, keyed by the run dir's name."""
    runs = {}
    for run_dir in sorted(glob.glob(osp.join(work_dir, '*'))):
        name = osp.basename(run_dir)
        if (_RUN_DIR.match(name) and osp.isdir(run_dir)
                and scalars_files(run_dir)):
            train, _ = read_scalars(run_dir)  # its newest attempt
            runs[name] = {key: [r[key] for r in train]
                          for key in ('time', 'data_time')}
    return runs


def rates_table(probes: Dict[str, Dict[str, Dict[str, List[float]]]],
                skip: int = 2) -> str:
    """Markdown: per probe and arm, the runs, their mean seconds per
    iteration (the mean over each run's logged intervals after the first
    ``skip``, which hold start-up; then the mean over runs, and the
    runs' range), the mean data time, and each probe's iterations per
    second of all its runs together (the sum of 1 / s per iteration)."""
    rows = ['| probe | arm | runs | s / iteration (range) | data s / '
            'iteration | iterations / s, all runs |', '|---' * 6 + '|']
    for probe, runs in probes.items():
        by_arm = {}
        for name, times in runs.items():
            kept = times['time'][skip:]
            if not kept:
                continue  # stopped before it logged past its start-up
            arm = _RUN_DIR.match(name).group('arm')
            by_arm.setdefault(arm, []).append(
                (statistics.mean(kept),
                 statistics.mean(times['data_time'][skip:])))
        total = sum(1 / t for values in by_arm.values() for t, _ in values)
        for i, (arm, values) in enumerate(by_arm.items()):
            means = [t for t, _ in values]
            rows.append(
                f'| {probe} | {arm} | {len(values)} | '
                f'{statistics.mean(means):.3f} ({min(means):.3f}-'
                f'{max(means):.3f}) | '
                f'{statistics.mean(d for _, d in values):.4f} | '
                + (f'{total:.1f} |' if i == len(by_arm) - 1 else ' |'))
    return '\n'.join(rows)
