# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Rates of a probe's trainings from their logged scalars, against a
hand-computed case."""
import json
import os

from mmdet_sssd.benchmarking.iteration_rates import probe_times, rates_table


def _write(run_dir, times, timestamp='20261127_132518'):
    """The run's mmengine scalars: one train record per logging interval
    (with its ``time`` and ``data_time``), then a validation's."""
    vis = os.path.join(run_dir, timestamp, 'vis_data')
    os.makedirs(vis)
    with open(os.path.join(vis, 'scalars.json'), 'w') as f:
        for i, (time, data) in enumerate(times, 1):
            f.write(json.dumps(dict(lr=1e-4, data_time=data, loss=1.8,
                                    time=time, epoch=1, iter=10 * i,
                                    step=10 * i)) + '\n')
        # a validation's record holds no time of a training
        f.write(json.dumps({'coco/bbox_mAP': 0.1, 'data_time': 0.001,
                            'time': 0.03, 'step': 1}) + '\n')


def test_rates_of_a_hand_computed_probe(tmp_path):
    probe = tmp_path / 'k3'
    _write(str(probe / 'baseline_seed1'), [(5.0, 1.0), (0.4, 0.01),
                                           (0.6, 0.03)])
    _write(str(probe / 'baseline_seed2'), [(5.0, 1.0), (0.2, 0.01),
                                           (0.2, 0.01)])
    _write(str(probe / 'sssd_seed1'), [(5.0, 1.0), (0.5, 0.02),
                                       (0.5, 0.02)])
    # a run stopped before it logged past its start-up, a dir that is no
    # run, and a run's earlier attempt (the newest one is read)
    _write(str(probe / 'sssd_seed2'), [(5.0, 1.0)])
    _write(str(probe / 'notes'), [(0.1, 0.1)])
    _write(str(probe / 'baseline_seed1'), [(9.0, 9.0)], '20261127_120000')

    times = probe_times(str(probe))
    assert sorted(times) == ['baseline_seed1', 'baseline_seed2',
                             'sssd_seed1', 'sssd_seed2']
    assert times['baseline_seed1'] == dict(time=[5.0, 0.4, 0.6],
                                           data_time=[1.0, 0.01, 0.03])

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
    _write(str(probe / 'baseline_seed1'), [(5.0, 1.0), (5.0, 1.0),
                                           (0.25, 0.01)])
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
