# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""tools/benchmarks/benchmark_overhead.py end to end at a tiny size: one
dense and one two-stage detector, each with the student, the floor and
SSSD, and the breakdown columns. Its ratios are measurements, not asserted
here."""
import os.path as osp
import subprocess
import sys

from mmdet_sssd.utils import tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_prints_student_floor_and_sssd_with_breakdown():
    env = tools_env(PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, 'tools/benchmarks/benchmark_overhead.py', '--size',
         '64', '--batch', '1', '--iters', '1', '--variants', 'sssd',
         '--detectors', 'RetinaNet R-50', 'Faster R-CNN R-50'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = {}
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.strip('|\n').split('|')]
        if line.startswith('| ') and cells[1][:1].isdigit():
            rows[cells[0]] = cells[1:]
    for detector in ('RetinaNet R-50', 'Faster R-CNN R-50'):
        student = rows[f'{detector}, student']
        assert student[1] == '1.00' and student[4] == '1.00'  # x student
        assert rows[f'{detector}, floor'][2] == '1.00'  # x floor
        sssd = rows[f'{detector}, sssd']
        assert float(sssd[0]) > 0 and float(sssd[3]) > 0  # s/iter, MB
        # teacher, adapter, head fwd / bwd, targets, proposals, RoI sampling
        shares = [float(c.rstrip('%')) for c in sssd[5:12]]
        assert len(shares) == 7 and all(s >= 0 for s in shares)
        assert shares[0] > 0 and shares[2] > 0
    # the RPN's proposals are timed for the two-stage detector only
    assert float(rows['Faster R-CNN R-50, sssd'][10].rstrip('%')) > 0
    assert rows['RetinaNet R-50, sssd'][10] == '0.0%'
