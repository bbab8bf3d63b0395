# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Rates of a probe's trainings from mmengine's text logs, against a
hand-computed case."""
import os

from mmdet_sssd.analysis.iteration_rates import (log_times, probe_times,
                                                 rates_table)

HEAD = '11/27 13:25:2{} - mmengine - INFO - '


def _train(i, time, data_time):
    return (HEAD.format(i) + f'Epoch(train)  [1][{10 * i}/250]  lr: 1e-04  '
            f'eta: 0:33:52  time: {time}  data_time: {data_time}  '
            'loss: 1.8  loss_cls: 1.1\n')


def _write(path, times):
    os.makedirs(os.path.dirname(path))
    with open(path, 'w') as f:
        f.write('/tmp/x.py:1: SyntaxWarning: time: 9.0 data_time: 9.0\n')
        for i, (time, data) in enumerate(times, 1):
            f.write(_train(i, time, data))
        # validation lines hold a time too: not a training's
        f.write(HEAD.format(9) + 'Epoch(val) [1][10/13]  eta: 0:00:01  '
                'time: 0.0300  data_time: 0.0010\n')


def test_rates_of_a_hand_computed_probe(tmp_path):
    probe = tmp_path / 'k3'
    _write(str(probe / 'baseline_seed1' / 'train.log'),
           [(5.0, 1.0), (0.4, 0.01), (0.6, 0.03)])
    _write(str(probe / 'baseline_seed2' / 'train.log'),
           [(5.0, 1.0), (0.2, 0.01), (0.2, 0.01)])
    _write(str(probe / 'sssd_seed1' / 'train.log'),
           [(5.0, 1.0), (0.5, 0.02), (0.5, 0.02)])
    # a run stopped before it logged past its start-up, and a dir that
    # is no run
    _write(str(probe / 'sssd_seed2' / 'train.log'), [(5.0, 1.0)])
    _write(str(probe / 'notes' / 'train.log'), [(0.1, 0.1)])

    times = probe_times(str(probe))
    assert sorted(times) == ['baseline_seed1', 'baseline_seed2',
                             'sssd_seed1', 'sssd_seed2']
    assert log_times(str(probe / 'baseline_seed1' / 'train.log')) == dict(
        time=[5.0, 0.4, 0.6], data_time=[1.0, 0.01, 0.03])

    rows = rates_table({'3 at once': times}, skip=1).splitlines()[2:]
    # baseline: runs 0.5 and 0.2 s / iteration, mean 0.35; data 0.02 and
    # 0.01; sssd: 0.5. All together: 1/0.5 + 1/0.2 + 1/0.5 = 9.0 / s
    assert rows == [
        '| 3 at once | baseline | 2 | 0.350 (0.200-0.500) | 0.0150 |  |',
        '| 3 at once | sssd | 1 | 0.500 (0.500-0.500) | 0.0200 | 9.0 |']


def test_the_tool_tabulates_work_dirs_and_its_own_json(tmp_path):
    import subprocess
    import sys
    probe = tmp_path / 'k1'
    _write(str(probe / 'baseline_seed1' / 'train.log'),
           [(5.0, 1.0), (5.0, 1.0), (0.25, 0.01)])
    out = str(tmp_path / 'times.json')
    tool = os.path.join(os.path.dirname(__file__), '..', '..', 'tools',
                        'benchmarks', 'iteration_rates.py')
    from_dir = subprocess.run([sys.executable, tool, str(probe), '--json',
                               out], capture_output=True, text=True,
                              check=True).stdout
    assert '| k1 | baseline | 1 | 0.250 (0.250-0.250) | 0.0100 | 4.0 |' \
        in from_dir
    from_json = subprocess.run([sys.executable, tool, out],
                               capture_output=True, text=True,
                               check=True).stdout
    assert from_json == from_dir
