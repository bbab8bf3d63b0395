"""End to end: the plugin's configs through mim and tools/, on a tiny
COCO-format dataset read by mmdet's CocoDataset and scored by CocoMetric."""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from mmdet_sssd.testing import make_toy_coco
from mmdet_sssd.utils import tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')


def run(cmd, cwd):
    env = tools_env(PYTHONWARNINGS='ignore')
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, (
        f'{" ".join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc.stdout + proc.stderr


def scalars(work_dir):
    """Training records of the newest run in ``work_dir``."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isdir(osp.join(work_dir, d, 'vis_data')))
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        return [r for r in map(json.loads, f) if 'loss' in r]


@pytest.fixture(scope='module')
def toy_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp('toy')
    make_toy_coco(str(root / 'data' / 'toy'))
    return root


def test_custom_imports_build_in_fresh_interpreter(toy_dir):
    # A config with custom_imports builds the plugin's model in a process
    # that never imported mmdet_sssd itself.
    code = ('from mmengine.config import Config\n'
            'from mmdet.registry import MODELS\n'
            'from mmdet.utils import register_all_modules\n'
            'register_all_modules()\n'
            f'cfg = Config.fromfile({CONFIG!r})\n'
            'model = MODELS.build(cfg.model)\n'
            'print(type(model).__name__, type(model.teacher).__name__,'
            ' type(model.label_term.feat_loss).__name__)\n')
    out = run([sys.executable, '-c', code], cwd=str(toy_dir))
    assert 'SSSDDistiller LabelEncoderTeacher JSDistanceLoss' in out


@pytest.mark.skipif(shutil.which('mim') is None, reason='openmim missing')
def test_mim_train_then_mim_test(toy_dir):
    work_dir = str(toy_dir / 'mim')
    run(['mim', 'train', 'mmdet_sssd', CONFIG, '--work-dir', work_dir],
        cwd=str(toy_dir))
    records = scalars(work_dir)
    assert records[-1]['epoch'] == 2 and records[-1]['iter'] == 8
    for key in ('loss_cls', 'teacher.loss_cls', 'loss_distill',
                'distill_coef'):
        assert key in records[-1]
    ckpt = osp.join(work_dir, 'epoch_2.pth')
    assert osp.isfile(ckpt)
    out = run(['mim', 'test', 'mmdet_sssd', CONFIG, '--checkpoint', ckpt,
               '--work-dir', work_dir], cwd=str(toy_dir))
    assert 'coco/bbox_mAP:' in out and 'bbox_mAP_50' in out


def test_tools_train_resume_keeps_iteration_lr_and_coef(toy_dir):
    work_dir = str(toy_dir / 'resume')
    train = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG,
             '--work-dir', work_dir]
    # Stop after epoch 1 (4 iters); the LR milestone is at epoch 1.
    run(train + ['--cfg-options', 'train_cfg.max_epochs=1'], cwd=str(toy_dir))
    first = scalars(work_dir)
    assert first[-1]['iter'] == 4 and first[-1]['distill_coef'] == 1.0
    assert first[-1]['lr'] == pytest.approx(1e-2)
    out = run(train + ['--resume'], cwd=str(toy_dir))
    assert 'resumed epoch: 1, iter: 4' in out
    resumed = scalars(work_dir)
    assert [r['iter'] for r in resumed] == [5, 6, 7, 8]
    for r in resumed:
        assert r['lr'] == pytest.approx(1e-3)
        assert r['distill_coef'] == 2.0


def test_tools_test_and_export_student(toy_dir):
    work_dir = str(toy_dir / 'export')
    run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG,
         '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=1'],
        cwd=str(toy_dir))
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    out = run([sys.executable, osp.join(ROOT, 'tools', 'test.py'), CONFIG,
               ckpt, '--work-dir', work_dir], cwd=str(toy_dir))
    distilled_map = [l for l in out.splitlines() if 'coco/bbox_mAP:' in l]
    assert distilled_map

    student = osp.join(work_dir, 'student.pth')
    run([sys.executable,
         osp.join(ROOT, 'tools', 'model_converters', 'export_student.py'),
         CONFIG, ckpt, student], cwd=str(toy_dir))
    # The exported pair is a stock mmdet model: mmdet's own test script,
    # without the plugin, gives the same COCO numbers.
    import mmdet
    mmdet_test = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools',
                          'test.py')
    code = ('import sys, runpy, torch, functools\n'
            'assert "mmdet_sssd" not in sys.modules\n'
            # plain torch.load(weights_only=True) must be enough
            'torch.load = functools.partial(torch.load, weights_only=True)\n'
            f'sys.argv = [{mmdet_test!r}, {student[:-4] + ".py"!r}, '
            f'{student!r}, "--work-dir", {work_dir!r}]\n'
            f'runpy.run_path({mmdet_test!r}, run_name="__main__")\n')
    out = run([sys.executable, '-c', code], cwd=str(toy_dir))
    stock_map = [l for l in out.splitlines() if 'coco/bbox_mAP:' in l]
    strip = lambda line: line.split('coco/bbox_mAP:')[1].split('data_time')[0]
    assert strip(stock_map[0]) == strip(distilled_map[0])


def test_dist_train_and_test_two_processes_on_cpu(toy_dir):
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = str(s.getsockname()[1])
    work_dir = str(toy_dir / 'dist')
    env = dict(os.environ, PORT=port, PYTHONWARNINGS='ignore',
               OMP_NUM_THREADS='1')
    # No CUDA here: the tools fall back to DDP on the CPU with gloo.
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), CONFIG, '2',
         '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_epochs=1'],
        cwd=str(toy_dir), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert 'run on the CPU with gloo' in proc.stderr
    # 8 images, 2 processes x 2 images: 2 iterations per epoch
    assert scalars(work_dir)[-1]['iter'] == 2
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_test.sh'), CONFIG,
         osp.join(work_dir, 'epoch_1.pth'), '2', '--work-dir', work_dir],
        cwd=str(toy_dir), env=env, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert 'coco/bbox_mAP:' in proc.stdout + proc.stderr


def test_eval_teacher_swap_refuses_a_two_stage_student(tmp_path):
    # misconfiguration fails before any image is scored
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools',
                                  'eval_teacher.py'),
         osp.join(ROOT, 'configs', 'sssd',
                  'sssd_faster-rcnn_r50_fpn_1x_coco.py'),
         str(tmp_path / 'absent.pth'), '--swap', '--work-dir',
         str(tmp_path), '--cfg-options',
         'model.detector.backbone.init_cfg=None'],
        cwd=str(tmp_path), env=tools_env(PYTHONWARNINGS='ignore'),
        capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert '--swap: SSSDDistiller: teacher_swap needs a dense ' \
        'single-stage head' in proc.stderr
    assert 'FasterRCNN' in proc.stderr
