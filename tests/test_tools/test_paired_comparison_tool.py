# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""tools/benchmarks/paired_comparison.py end to end on CPU: the toy
baseline and its SSSD on two seeds, the paired tables, the records, and a
rerun that reuses the finished runs."""
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmdet_sssd.testing import make_toy_coco
from mmdet_sssd.utils import tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'benchmarks', 'paired_comparison.py')
TOY = osp.join(ROOT, 'configs', 'toy')
pytest.importorskip('matplotlib')


def run(args, cwd):
    # the tool and its trainings run the mmdet_sssd imported here
    proc = subprocess.run([sys.executable, TOOL] + args, cwd=cwd,
                          env=tools_env(PYTHONWARNINGS='ignore',
                                        OMP_NUM_THREADS='1'),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


def test_two_toy_configs_on_two_seeds(tmp_path):
    # the configs read data/toy/ of the directory the command runs in
    make_toy_coco(str(tmp_path / 'data' / 'toy'))
    arms = [f'baseline={TOY}/retinanet_r18-tiny_fpn_toy.py',
            f'sssd={TOY}/sssd_retinanet_r18-tiny_fpn_toy.py']
    common = ['--seeds', '0,1', '--work-dir', 'job', '--threads', '1']
    out = run(arms + common + ['--cfg-options', 'train_cfg.max_epochs=1'],
              cwd=str(tmp_path))
    assert '| method | seeds | AP | AP50 | AP75 | APs | APm |' in out
    assert '| baseline | 2 |' in out and '| sssd | 2 |' in out
    assert '| sssd - baseline | ' in out
    assert 'sssd - baseline: ' in out and '95% interval [' in out
    records = json.loads((tmp_path / 'job' / 'results.json').read_text())
    assert [(r['method'], r['seed']) for r in records] == [
        ('baseline', 0), ('baseline', 1), ('sssd', 0), ('sssd', 1)]
    for r in records:
        assert r['split'] == 'test' and 0 <= r['AP'] <= 100
        assert r['cfg_options'] == ['train_cfg.max_epochs=1']
        assert r['config'].startswith(TOY)
    # the toy SSSD validates with mmdet's loop: scored by tools/test.py,
    # without its teacher (the digits job scores one through eval_teacher)
    assert not any('teacher_AP' in r for r in records)
    log = (tmp_path / 'job' / 'sssd_seed1' / 'run.json').read_text()
    assert json.loads(log)['schedule']  # lambda and LR per logged iteration
    for name in ('results.md', 'curves.png'):
        assert (tmp_path / 'job' / name).stat().st_size > 0
    # every arm of a seed got the seed and the sampler's seed
    dumped = (tmp_path / 'job' / 'baseline_seed1' /
              'retinanet_r18-tiny_fpn_toy.py').read_text()
    assert 'seed=1' in dumped.replace(' ', '')

    again = run(arms + common + ['--skip-existing', '--no-figures',
                                 '--reference', 'sssd'], cwd=str(tmp_path))
    assert 'reusing the finished run' in again and 'training' not in again
    assert '| baseline - sssd | ' in again
    tables = run(['--table', str(tmp_path / 'job' / 'results.json')],
                 cwd=str(tmp_path))
    assert '### job' in tables and '| sssd - baseline | ' in tables
    curve_tables = run(['--table', str(tmp_path / 'job' / 'curves.json')],
                       cwd=str(tmp_path))
    assert '| mean val AP after epoch |' in curve_tables
    assert '| baseline (2 seeds) |' in curve_tables


def test_every_arm_with_weight_averaging_scores_both_weights(tmp_path):
    """--ema: each arm trains with mmengine's EMAHook; a record has the
    averaged weights' AP and the raw weights' (raw_AP) of the same run."""
    import torch
    make_toy_coco(str(tmp_path / 'data' / 'toy'))
    arms = [f'baseline={TOY}/retinanet_r18-tiny_fpn_toy.py',
            f'sssd={TOY}/sssd_retinanet_r18-tiny_fpn_toy.py']
    out = run(arms + ['--seeds', '0', '--work-dir', 'job', '--threads', '1',
                      '--ema', '0.1', '--no-figures', '--cfg-options',
                      'train_cfg.max_epochs=1'], cwd=str(tmp_path))
    assert 'scoring on the test split (raw)' in out
    records = json.loads((tmp_path / 'job' / 'results.json').read_text())
    for r in records:
        assert r['ema_momentum'] == 0.1
        assert 0 <= r['AP'] <= 100 and 0 <= r['raw_AP'] <= 100
        run_dir = tmp_path / 'job' / f'{r["method"]}_seed0'
        assert 'EMAHook' in next(run_dir.glob('*.py')).read_text()
        # scored twice: the averaged weights, then the raw ones
        assert (run_dir / 'test').is_dir() and (run_dir / 'test_raw').is_dir()
        ckpt = (run_dir / 'last_checkpoint').read_text().strip()
        averaged = torch.load(ckpt, weights_only=False)['state_dict']
        raw = torch.load(ckpt[:-4] + '.raw.pth')['state_dict']
        assert averaged.keys() == raw.keys()
        assert any(not torch.equal(averaged[k], raw[k]) for k in raw)


def test_tables_of_several_records_files_pooled_and_by_seed(tmp_path):
    """--table over two jobs' records: each experiment on its own, pooled
    into one paired comparison, and filtered by seed; a method and seed in
    both files is refused when pooling."""
    def records(experiment, seeds, gain):
        return [dict(experiment=experiment, method=method, seed=seed,
                     AP=50.0 + seed + (gain * (seed % 2 + 1)
                                      if method == 'sssd' else 0),
                     AP50=80.0, AP75=60.0, APs=40.0, APm=55.0, APl=None,
                     split='test')
                for method in ('baseline', 'sssd') for seed in seeds]
    first, second = tmp_path / 'test.json', tmp_path / 'replication.json'
    first.write_text(json.dumps(records('test', [0, 1, 2], 1.0)))
    second.write_text(json.dumps(records('replication', [3, 4, 5], 1.0)))
    both = run(['--table', str(first), str(second)], cwd=str(tmp_path))
    assert '### test' in both and '### replication' in both
    pooled = run(['--table', str(first), str(second), '--pool'],
                 cwd=str(tmp_path))
    assert '### test + replication' in pooled
    assert '| sssd | 6 |' in pooled
    # by seed: +1 (even) and +2 (odd); mean of 0..5 by hand: 9 / 6
    assert 'sssd - baseline: +1.50 AP' in pooled
    chosen = run(['--table', str(first), str(second), '--pool', '--seeds',
                  '1,3,5'], cwd=str(tmp_path))
    assert '| sssd | 3 |' in chosen
    assert 'sssd - baseline: +2.00 AP' in chosen
    proc = subprocess.run(
        [sys.executable, TOOL, '--table', str(first), str(first), '--pool'],
        env=tools_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'baseline seed 0 twice (experiments test and test)' in proc.stderr
