"""The main job's smoke mode end to end, compare_zoo, vis_teacher and
eval_teacher."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytest.importorskip('sklearn')
pytest.importorskip('matplotlib')


def run(args, cwd=ROOT):
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


def test_smoke_job_writes_table_and_figures(tmp_path):
    work_dir = tmp_path / 'job'
    out = run(['tools/digits_benchmark.py', '--smoke', '--methods',
               'baseline,sssd,ssim,adl', '--jobs', '2', '--work-dir',
               str(work_dir), '--data-root', str(tmp_path / 'data')])
    assert '| method | AP | AP50 | AP75 | APs | APm | APl |' in out
    for method in ('baseline', 'sssd', 'ssim', 'adl'):
        assert f'| {method} |' in out
        # with --jobs, each run's log is a file
        assert (work_dir / f'{method}_seed0' / 'train.log').stat().st_size
    for name in ('results.md', 'results.json', 'curves.png', 'teacher.png'):
        assert (work_dir / name).stat().st_size > 0, name
    results = json.loads((work_dir / 'results.json').read_text())
    sssd = results['sssd'][0]
    assert set(sssd['final']) == {'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl'}
    # lambda was logged every logged iteration, with the LR
    assert all(coef is not None for _, coef, _ in sssd['schedule'])
    assert all(coef is None for _, coef, _ in results['baseline'][0]['schedule'])

    # an interrupted job goes on: finished runs are reused, not retrained
    again = run(['tools/digits_benchmark.py', '--smoke', '--methods',
                 'baseline,sssd', '--skip-existing', '--work-dir',
                 str(work_dir), '--data-root', str(tmp_path / 'data')])
    assert 'training ' not in again and 'reusing the finished run' in again
    assert again.split('| baseline |')[1].split('\n')[0] == \
        out.split('| baseline |')[1].split('\n')[0]

    # vis_teacher on the checkpoint the job wrote, another val image
    data = tmp_path / 'data'
    image = json.loads((data / 'val.json').read_text())['images'][1]
    out_png = tmp_path / 'vis.png'
    run(['tools/vis_teacher.py',
         'configs/digits/sssd_retinanet_r18_fpn_digits.py',
         str(work_dir / 'sssd_seed0' / 'epoch_1.pth'),
         str(data / 'images' / image['file_name']), '--ann-file',
         str(data / 'val.json'), '--out', str(out_png)])
    assert out_png.stat().st_size > 0

    # eval_teacher: the label teacher scored by CocoMetric on val
    root = str(data) + '/'
    data_options = [f'train_dataloader.dataset.data_root={root}',
                    f'test_dataloader.dataset.data_root={root}',
                    f'test_evaluator.ann_file={root}val.json']
    out = run(['tools/eval_teacher.py',
               'configs/digits/sssd_retinanet_r18_fpn_digits.py',
               str(work_dir / 'sssd_seed0' / 'epoch_1.pth'), '--work-dir',
               str(tmp_path / 'eval_teacher'), '--class-probe', '8',
               '--cfg-options'] + data_options)
    # after a few iterations the teacher may detect nothing yet
    assert ('label teacher: coco/bbox_mAP=' in out or
            'label teacher: no detections' in out)
    for maps in ('student', 'teacher'):
        assert f'class probe ({maps} maps at box centres' in out

    # distill_grad_scale: each loss's pull on the student's maps, and the
    # lambda at which it matches the first loss's
    out = run(['tools/distill_grad_scale.py',
               'configs/digits/sssd_retinanet_r18_fpn_digits.py',
               str(work_dir / 'sssd_seed0' / 'epoch_1.pth'), '--losses',
               'MSELoss', 'MSELoss:loss_weight=2',
               'JSDistanceLoss:tau=0.5,axis=channel', '--batches', '2',
               '--cfg-options'] + data_options)
    rows = {line.split('|')[1].strip(): line.split('|')[2:5]
            for line in out.splitlines() if line.startswith('| ')}
    value, grad, coef = (float(x) for x in rows['MSELoss:loss_weight=2'])
    assert float(rows['MSELoss'][0]) == pytest.approx(value / 2, rel=1e-3)
    assert coef == 0.5 and grad > 0
    value, _, coef = (float(x) for x in
                      rows['JSDistanceLoss:tau=0.5,axis=channel'])
    assert 0 < value <= 0.833 and coef > 0  # sqrt(ln 2) bounds it

    # a pretrained teacher: the job's baseline teaches with ADL + JS
    run(['tools/train.py',
         'configs/digits/adl-pretrained_retinanet_r18_fpn_digits.py',
         '--work-dir', str(tmp_path / 'pretrained'), '--cfg-options',
         'model.pretrained_teacher.checkpoint=' +
         str(work_dir / 'baseline_seed0' / 'epoch_1.pth'),
         f'train_dataloader.dataset.data_root={root}',
         f'val_dataloader.dataset.data_root={root}',
         f'val_evaluator.ann_file={root}val.json', 'train_cfg.max_epochs=1',
         'train_dataloader.batch_size=2', 'val_dataloader.batch_size=2',
         'param_scheduler.1.end=1', 'param_scheduler.1.milestones=[1]',
         'default_hooks.logger.interval=1'])
    log = next((tmp_path / 'pretrained').glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert any('loss_pt_logits' in r and 'loss_pt_feat' in r
               for r in records)


def write_run(root, config, ap):
    os.makedirs(root / '20260101_000000' / 'vis_data')
    (root / f'{config}.py').write_text('model = dict()\n')
    (root / '20260101_000000' / 'vis_data' / 'scalars.json').write_text(
        json.dumps({'loss': 1.0, 'iter': 1}) + '\n' +
        json.dumps({'coco/bbox_mAP': ap, 'step': 12}) + '\n')


def test_compare_zoo_on_fixtures(tmp_path):
    write_run(tmp_path / 'a', 'sssd_retinanet_r50_fpn_1x_coco', 0.381)
    write_run(tmp_path / 'b', 'lgd_faster-rcnn_r50_fpn_2x_coco', 0.392)
    write_run(tmp_path / 'c', 'my_own_config', 0.2)
    # a results JSON of tools/test.py inside a work dir
    os.makedirs(tmp_path / 'd' / '20260102_000000')
    (tmp_path / 'd' / 'sssd_fcos_r101-caffe_fpn_gn-head_1x_coco.py'
     ).write_text('')
    test_json = tmp_path / 'd' / '20260102_000000' / '20260102_000000.json'
    test_json.write_text(json.dumps({'coco/bbox_mAP': 0.40}))
    out = run(['tools/compare_zoo.py', str(tmp_path / 'a'),
               str(tmp_path / 'b'), str(tmp_path / 'c'), str(test_json)])
    lines = {l.split(' | ')[1]: l for l in out.splitlines()[2:]}
    # model zoo: RetinaNet R-50 1x 36.5, Faster R-CNN R-50 2x 38.4,
    # FCOS R-101 caffe 1x 39.1
    assert '| retinanet_r50_fpn_1x_coco | 36.5 | 38.1 | +1.6 |' in \
        lines['sssd_retinanet_r50_fpn_1x_coco']
    assert '| faster-rcnn_r50_fpn_2x_coco | 38.4 | 39.2 | +0.8 |' in \
        lines['lgd_faster-rcnn_r50_fpn_2x_coco']
    assert 'fcos_r101-caffe_fpn_gn-head-1x_coco | 39.1 | 40.0 | +0.9' in \
        lines['sssd_fcos_r101-caffe_fpn_gn-head_1x_coco']
    assert 'inherits no mmdet:: stock config' in lines['my_own_config']
