"""The main job's smoke mode end to end, compare_zoo, vis_teacher and
eval_teacher."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mmdet_sssd.utils import tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytest.importorskip('sklearn')
pytest.importorskip('matplotlib')


def run(args, cwd=ROOT):
    # the tools run the mmdet_sssd imported here (not another installed one)
    env = tools_env(PYTHONWARNINGS='ignore')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'digits_benchmark', osp.join(ROOT, 'tools', 'digits_benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tables_and_seed_arguments():
    """The statistics are tested in tests/test_analysis; here the digits
    job's comparisons and arguments."""
    tool = load_tool()
    assert tool.comparisons(['baseline', 'sssd', 'sssd-published', 'lgd',
                             'sssd-constant']) == [
        ('sssd', 'baseline'), ('sssd-published', 'baseline'),
        ('lgd', 'baseline'), ('sssd-constant', 'baseline'),
        ('sssd', 'sssd-published'), ('sssd', 'lgd'),
        ('sssd', 'sssd-constant'), ('sssd-published', 'lgd')]
    # a variant recipe (weight decay 0.5 in both arms) beside the stock
    assert tool.comparisons(['baseline', 'sssd-lam10', 'baseline-wd0.5',
                             'sssd-lam10-wd0.5', 'baseline-wd0.2']) == [
        ('sssd-lam10', 'baseline'), ('baseline-wd0.5', 'baseline'),
        ('sssd-lam10-wd0.5', 'baseline'), ('baseline-wd0.2', 'baseline'),
        ('sssd-lam10', 'baseline-wd0.5'),
        ('sssd-lam10-wd0.5', 'baseline-wd0.5'),
        ('sssd-lam10-wd0.5', 'sssd-lam10'),
        ('sssd-lam10', 'baseline-wd0.2')]
    runs = [dict(method=m, seed=s, AP=ap, AP50=0, AP75=0, APs=0, APm=0)
            for m, s, ap in [('baseline', 0, 30.0), ('sssd', 0, 31.0)]]
    assert '| sssd - baseline | +1.0 | +1.00 | n/a |' in tool.tables(runs)
    args = tool.parse_args(['--seeds', '5', '--seed-offset', '100'])
    assert args.seed_list == [100, 101, 102, 103, 104]
    assert tool.parse_args(['--seed-list', '3,7']).seed_list == [3, 7]
    # the default size trains its images for the configs' 18 epochs
    args = tool.parse_args(['--train-images', '1000'])
    assert (args.train_images, args.epochs) == (1000, 18)
    assert tool.parse_args(['--epochs', '9']).train_images == 2000
    # --full keeps its 48000 image-epochs: 2000 images train 24 epochs
    assert tool.parse_args(['--full', '--train-images', '2000']).epochs is None
    assert tool.epochs_for('full', 2000) == 24
    with pytest.raises(SystemExit):  # 1700 images cannot keep 48000
        tool.parse_args(['--full', '--train-images', '1700'])
    # with the epochs given, the images need not keep the iterations
    assert tool.parse_args(['--train-images', '1700', '--epochs',
                            '10']).train_images == 1700
    # two slots: both distilled runs, then both baselines
    assert tool.longest_first([('baseline', 200), ('sssd', 200),
                               ('baseline', 201), ('sssd', 201)]) == [
        ('sssd', 200), ('sssd', 201), ('baseline', 200), ('baseline', 201)]
    # the COCO-layout scenes, not for the semi-supervised methods
    assert tool.parse_args(['--layout', 'coco']).layout == 'coco'
    for bad in (['--epochs', '0'], ['--train-images', '0', '--epochs', '5'],
                ['--layout', 'coco', '--methods', 'baseline,sad']):
        with pytest.raises(SystemExit):
            tool.parse_args(bad)


def test_tables_of_several_records_files_pooled_and_by_seed(tmp_path):
    """--table FILE FILE --pool --seed-list: the records of a test and its
    replication as one paired comparison (the pooling itself is tested in
    tests/test_analysis)."""
    def records(experiment, seeds):
        # sssd +1 on even seeds, +2 on odd ones
        return [dict(experiment=experiment, method=method, seed=seed,
                     AP=50.0 + (seed % 2 + 1 if method == 'sssd' else 0),
                     AP50=80.0, AP75=60.0, APs=40.0, APm=55.0)
                for method in ('baseline', 'sssd') for seed in seeds]
    first, second = tmp_path / 'test.json', tmp_path / 'replication.json'
    first.write_text(json.dumps(records('test', [0, 1, 2])))
    second.write_text(json.dumps(records('replication', [3, 4, 5])))
    tool = ['tools/digits_benchmark.py', '--table', str(first), str(second)]
    pooled = run(tool + ['--pool'])
    assert '### test + replication' in pooled
    assert '| sssd - baseline | +1.0 | +2.0 | +1.0 | +2.0 | +1.0 | +2.0 | ' \
        '+1.50 |' in pooled
    chosen = run(tool + ['--pool', '--seed-list', '1,3,5'])
    assert '| sssd - baseline | +2.0 | +2.0 | +2.0 | +2.00 |' in chosen
    assert '### test\n' in run(tool)  # each experiment on its own
    # --epochs keeps one schedule's records: a longer run of seed 0 out
    longer = tmp_path / 'longer.json'
    longer.write_text(json.dumps([dict(r, epochs=36)
                                  for r in records('longer', [0])]))
    first.write_text(json.dumps([dict(r, epochs=18)
                                 for r in records('test', [0, 1, 2])]))
    only = run(['tools/digits_benchmark.py', '--table', str(first),
                str(longer), '--pool', '--epochs', '18'])
    assert '| sssd - baseline | +1.0 | +2.0 | +1.0 | +1.33 |' in only
    proc = subprocess.run(
        [sys.executable, 'tools/digits_benchmark.py', '--table', str(first),
         str(first), '--pool'], cwd=ROOT, env=tools_env(),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and 'seed 0 twice' in proc.stderr


def test_digits_job_trains_through_mmengines_launchers(tmp_path):
    """--launcher pytorch --gpus N: each training of the digits job is one
    torchrun of tools/train.py with N processes, as tools/dist_train.sh."""
    tool = load_tool()
    args = tool.parse_args(['--launcher', 'pytorch', '--gpus', '2'])
    job = tool.DigitsJob('default', str(tmp_path), 'backbone.pth',
                         arms={'baseline': tool.CONFIGS['baseline']},
                         work_dir=str(tmp_path),
                         experiment='x', launcher=tool.launcher_from_args(
                             args))
    cmd = job.train_task('baseline', 200)[2]
    assert cmd[1:3] == ['-m', 'torch.distributed.run']
    assert '--nproc_per_node=2' in cmd
    assert cmd[cmd.index('--launcher') + 1] == 'pytorch'
    script = [c for c in cmd if c.endswith(osp.join('tools', 'train.py'))]
    assert cmd[cmd.index(script[0]) + 1] == tool.CONFIGS['baseline']


def test_default_job_is_the_baseline_against_sssd_with_adl():
    """The README's first command compares the baseline with the
    configuration shown better on fresh seeds (the 1500 pre-registration):
    the decoupled SSSD at lambda 1 with LGD's 3-epoch warm-up and ADL's
    logit term from the label teacher's scores, on two report seeds, in
    the precise regime: 2000 train images for 18 epochs."""
    from mmengine.config import Config
    tool = load_tool()
    args = tool.parse_args([])
    sssd = 'sssd-decoupled-lam1-warmup3-adl'
    assert args.methods == ['baseline', sssd]
    assert args.seed_list == [200, 201]
    assert (args.train_images, args.epochs) == (2000, 18)
    assert tool.comparisons(args.methods) == [(sssd, 'baseline')]
    cfg = Config.fromfile(osp.join(ROOT, tool.CONFIGS[sssd]))
    baseline = Config.fromfile(osp.join(ROOT, tool.CONFIGS['baseline']))
    assert cfg.model.type == 'SSSDDistiller'
    assert (cfg.model.teacher_trains_head, cfg.model.distill_warmup,
            cfg.model.distill_coef) == (False, 3, 1.0)
    assert cfg.model.distill_loss.type == 'JSDistanceLoss'
    assert cfg.model.logit_distill_loss.type == 'AdaptiveDistillLoss'
    assert not cfg.model.get('mask_ignored_anchors', False)
    # the tuned weight decay, in the baseline and (inherited) its student
    assert (baseline.optim_wrapper.optimizer.weight_decay ==
            cfg.optim_wrapper.optimizer.weight_decay == 0.5)
    # lambda x2 at the first LR decay, as SSSD steps it
    assert [h.rule for h in cfg.custom_hooks
            if h.type == 'AdaptiveDistillCoefHook'] == ['step']


def test_smoke_job_on_the_coco_layout_scenes(tmp_path):
    """--layout coco end to end: 192-pixel scenes generated, trained and
    scored at 192 pixels, the layout in the records."""
    work_dir, data = tmp_path / 'job', tmp_path / 'data'
    run(['tools/digits_benchmark.py', '--smoke', '--layout', 'coco',
         '--methods', 'baseline', '--seed-list', '100', '--no-figures',
         '--work-dir', str(work_dir), '--data-root', str(data)])
    assert json.loads((data / 'meta.json').read_text())['layout'] == 'coco'
    image = json.loads((data / 'test.json').read_text())['images'][0]
    assert (image['width'], image['height']) == (192, 192)
    record, = json.loads((work_dir / 'results.json').read_text())
    assert record['layout'] == 'coco' and record['split'] == 'test'
    from mmengine.config import Config
    cfg = Config.fromfile(str(work_dir / 'baseline_seed100' /
                              'retinanet_r18_fpn_digits.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert [t.scale for t in cfg[loader].dataset.pipeline
                if t.type == 'Resize'] == [(192, 192)]

    # the step cost on these scenes: the configs' Resize set as the job's
    from mmdet_sssd.benchmarking.step_cost import _config
    config = osp.join(ROOT, 'configs', 'digits', 'retinanet_r18_fpn_digits.py')
    assert [t.scale for t in _config(config, 192).train_dataloader.dataset
            .pipeline if t.type == 'Resize'] == [(192, 192)]
    cost = run(['tools/digits_benchmark.py', '--smoke', '--layout', 'coco',
                '--methods', 'baseline', '--step-cost', '1', '--device',
                'cpu', '--data-root', str(data)])
    assert 'Medians of 1 steps on cpu, 192-pixel scenes' in cost
    assert '| baseline | 8 | ' in cost


def test_smoke_sad_job_pseudo_labels_and_pairs_with_the_semi_baseline(
        tmp_path):
    work_dir, data = tmp_path / 'job', tmp_path / 'data'
    out = run(['tools/digits_benchmark.py', '--smoke', '--methods', 'sad',
               '--seed-list', '100,101', '--jobs', '2', '--pseudo-thr', '0',
               '--no-figures', '--work-dir', str(work_dir), '--data-root',
               str(data)])
    # the labeled quarter and the rest, written once into the data folder
    labeled = json.loads((data / 'train_labeled.json').read_text())
    unlabeled = json.loads((data / 'train_unlabeled.json').read_text())
    assert len(labeled['images']) == 2 and len(unlabeled['images']) == 6
    assert 'annotations' not in unlabeled
    records = json.loads((work_dir / 'results.json').read_text())
    assert sorted((r['method'], r['seed']) for r in records) == [
        ('sad', 100), ('sad', 101), ('semi-baseline', 100),
        ('semi-baseline', 101)]
    for seed in (100, 101):
        pseudo = json.loads(
            (work_dir / f'pseudo_seed{seed}.json').read_text())
        assert pseudo['annotations']
        log = (work_dir / f'sad_seed{seed}' / 'train.log').read_text()
        # the teacher is the seed's own semi-baseline
        assert f'semi-baseline_seed{seed}/iter_4.pth' in log
        assert 'loss_pt_logits' in log
    sad = [r for r in records if r['method'] == 'sad']
    assert all(r['pseudo_labels']['boxes'] > 0 for r in sad)
    assert '| sad - semi-baseline | ' in out


def test_smoke_job_writes_table_and_figures(tmp_path):
    work_dir = tmp_path / 'job'
    data = tmp_path / 'data'
    # the job pretrains the backbone into the data folder, then runs two
    # tuning seeds (--seed-offset) of each method, two at a time
    out = run(['tools/digits_benchmark.py', '--smoke', '--methods',
               'baseline,sssd,lgd', '--seeds', '2', '--seed-offset', '100',
               '--jobs', '2', '--work-dir', str(work_dir), '--data-root',
               str(data)])
    assert 'pretraining the backbone' in out
    assert (data / 'backbone.pth').stat().st_size > 0
    assert '| method | seeds | AP | AP50 | AP75 | APs | APm |' in out
    for method in ('baseline', 'sssd', 'lgd'):
        assert f'| {method} | 2 |' in out
        # with --jobs, each run's log is a file
        for seed in (100, 101):
            assert (work_dir / f'{method}_seed{seed}' / 'train.log'
                    ).stat().st_size
            log = (work_dir / f'{method}_seed{seed}' / 'train.log'
                   ).read_text()
            # every student starts from the pretrained backbone
            assert f'load model from: {data}/backbone.pth' in log
    # paired differences with their 95% interval, in numbers and words
    assert '| sssd - baseline | ' in out and '| sssd - lgd | ' in out
    assert 'sssd - baseline: ' in out and '95% interval [' in out
    for name in ('results.md', 'results.json', 'curves.png', 'teacher.png'):
        assert (work_dir / name).stat().st_size > 0, name
    records = json.loads((work_dir / 'results.json').read_text())
    assert sorted((r['method'], r['seed']) for r in records) == sorted(
        (m, s) for m in ('baseline', 'sssd', 'lgd') for s in (100, 101))
    for r in records:
        assert {'method', 'seed', 'AP', 'AP50', 'AP75', 'APs', 'APm',
                'train_s', 'command', 'machine', 'experiment'} <= set(r)
        assert 0 <= r['AP'] <= 100 and '--seed-offset 100' in r['command']
    run_record = json.loads(
        (work_dir / 'sssd_seed100' / 'run.json').read_text())
    # lambda was logged every logged iteration, with the LR
    assert all(coef is not None for _, coef, _ in run_record['schedule'])
    # LabelTeacherValLoop scored the label teacher at each validation
    assert len(run_record['teacher_val_ap']) == len(run_record['val_ap'])
    assert 0 <= run_record['teacher_AP'] <= 100
    # the reported AP is the held-out test split's (the teacher's too);
    # the val curve's last value is kept beside it
    assert run_record['split'] == 'test' and run_record['num_test'] == 4
    assert run_record['val_AP'] == run_record['val_ap'][-1]
    assert run_record['val_teacher_AP'] == run_record['teacher_val_ap'][-1]
    assert len(json.loads((data / 'test.json').read_text())['images']) == 4
    baseline = json.loads(
        (work_dir / 'baseline_seed100' / 'run.json').read_text())
    assert all(coef is None for _, coef, _ in baseline['schedule'])
    assert baseline['split'] == 'test' and 'teacher_AP' not in baseline
    # a run without a label teacher is scored class-agnostically too, in
    # a second scoring (a label teacher's scoring has it already)
    assert 0 <= baseline['agnostic_AP'] <= 100
    assert (work_dir / 'baseline_seed100' / 'test_agnostic').is_dir()
    assert 'ClassAgnosticCocoMetric' in (work_dir / 'baseline_seed100' /
                                'test_agnostic.log').read_text()
    assert not (work_dir / 'sssd_seed100' / 'test_agnostic').exists()

    # the tables again, from the records alone
    tables = run(['tools/digits_benchmark.py', '--table',
                  str(work_dir / 'results.json')])
    assert out.split('| method |')[1].split('\n\n')[0] in tables
    # the curves, train losses per epoch included, and their tables
    curve_records = json.loads((work_dir / 'curves.json').read_text())
    sssd = [r for r in curve_records if r['method'] == 'sssd'][0]
    assert sssd['val_ap'] == run_record['val_ap']
    assert len(sssd['train_loss']['loss_distill']) == len(sssd['val_ap'])
    curve_out = run(['tools/digits_benchmark.py', '--table',
                     str(work_dir / 'curves.json')])
    assert '| sssd (2 seeds) |' in curve_out and '| its teacher |' in curve_out
    assert '| sssd: loss_distill / distill_coef |' in curve_out

    # an interrupted job goes on: finished runs are reused, not retrained;
    # a record made before the test split (val only) is scored on it
    old = dict(baseline)
    for key in ('split', 'num_test', 'val_AP'):
        old.pop(key)
    old['AP'] = old['val_ap'][-1]
    record = work_dir / 'baseline_seed100' / 'run.json'
    record.write_text(json.dumps(old))
    again = run(['tools/digits_benchmark.py', '--smoke', '--methods',
                 'baseline,sssd', '--seed-list', '100', '--skip-existing',
                 '--no-figures', '--work-dir', str(work_dir),
                 '--data-root', str(data)])
    assert 'training ' not in again and 'reusing the finished run' in again
    assert 'baseline, seed 100: scoring the finished run' in again
    assert 'sssd, seed 100: scoring' not in again
    rescored = json.loads(record.read_text())
    assert rescored['split'] == 'test' and rescored['AP'] == baseline['AP']
    assert 'pretraining' not in again  # the backbone is reused too
    assert again.split('| baseline | 1 |')[1].split('|')[1].strip() == \
        str(next(r['AP'] for r in records
                 if (r['method'], r['seed']) == ('baseline', 100)))

    # the step cost of each method and of the floor, on the job's data (lgd
    # has a distillation warm-up: the phase is set as the hook would)
    cost = run(['tools/digits_benchmark.py', '--smoke', '--methods',
                'baseline,sssd,lgd', '--step-cost', '1', '--data-root',
                str(data)])
    rows = {line.split('|')[1].strip(): line.split('|')[4].strip()
            for line in cost.splitlines() if line.startswith('| ')}
    assert rows['baseline'] == '1.00'
    for name in ('sssd', 'lgd', 'floor (baseline + its head again)'):
        assert float(rows[name]) > 0, cost  # ratios: not asserted

    # vis_teacher on the checkpoint the job wrote, another val image
    data = tmp_path / 'data'
    image = json.loads((data / 'val.json').read_text())['images'][1]
    out_png = tmp_path / 'vis.png'
    run(['tools/analysis_tools/vis_teacher.py',
         'configs/digits/sssd_retinanet_r18_fpn_digits.py',
         str(work_dir / 'sssd_seed100' / 'epoch_1.pth'),
         str(data / 'images' / image['file_name']), '--ann-file',
         str(data / 'val.json'), '--out', str(out_png)])
    assert out_png.stat().st_size > 0

    # eval_teacher: the label teacher scored by CocoMetric on val
    root = str(data) + '/'
    backbone = ('model.detector.backbone.init_cfg.checkpoint=' +
                str(data / 'backbone.pth'))
    data_options = [f'train_dataloader.dataset.data_root={root}',
                    f'test_dataloader.dataset.data_root={root}',
                    f'test_evaluator.ann_file={root}val.json', backbone]
    out = run(['tools/analysis_tools/eval_teacher.py',
               'configs/digits/sssd_retinanet_r18_fpn_digits.py',
               str(work_dir / 'sssd_seed100' / 'epoch_1.pth'), '--work-dir',
               str(tmp_path / 'eval_teacher'), '--class-probe', '8',
               '--swap', '--box-errors', '4', '--head-fit', '2',
               '--cfg-options'] + data_options)
    # after a few iterations the teacher may detect nothing yet
    assert ('label teacher: coco/bbox_mAP=' in out or
            'label teacher: no detections' in out)
    for maps in ('student', 'teacher'):
        assert f'class probe ({maps} maps at box centres' in out
    # beside it, the class-agnostic AP, and the student's
    for name in ('label teacher, class-agnostic', 'student',
                 'student, class-agnostic'):
        assert f'\n{name}: ' in out, out
    # --swap: each half of the head's output from one set of maps
    for name in ("teacher's scores, student's boxes",
                 "student's scores, teacher's boxes"):
        for kind in ('', ', class-agnostic'):
            assert f'\n{name}{kind}: ' in out, out
    # --box-errors: found or not, and how tightly, per object size
    for maps in ('student', 'teacher'):
        assert f'box errors ({maps}, all): ' in out, out
    # --head-fit: the head fitted to the teacher's maps, then all again
    note = "head fitted to the teacher's maps"
    assert f'{note}: 2 batches at lr 0.0001 (AdamW)' in out, out
    for name in ('label teacher', 'student, class-agnostic'):
        assert f'\n{name} ({note}): ' in out, out
    for maps in ('student', 'teacher'):
        assert f'box errors ({maps}, all; {note}): ' in out, out

    # probe_teacher: where the class is kept or lost, on the trained model
    # and, as the control, with one object per image
    probe_options = [f'train_dataloader.dataset.data_root={root}',
                     f'val_dataloader.dataset.data_root={root}', backbone]
    for extra in ([], ['--single-object']):
        out = run(['tools/analysis_tools/probe_teacher.py',
                   'configs/digits/sssd_retinanet_r18_fpn_digits.py',
                   str(work_dir / 'sssd_seed100' / 'epoch_1.pth'),
                   '--train-imgs', '8', '--test-imgs', '4',
                   '--out', str(tmp_path / 'probe.json')] + extra +
                  ['--cfg-options'] + probe_options)
        report = json.loads((tmp_path / 'probe.json').read_text())
        assert report['single_object'] == bool(extra)
        assert 'attention: weight on its own label' in out
        assert len(report['teacher_maps']) == 4  # the digits FPN's levels
        if extra:
            assert report['attention']['chance'] == pytest.approx(0.5)

    # distill_grad_scale: each loss's pull on the student's maps, and the
    # lambda at which it matches the first loss's
    out = run(['tools/analysis_tools/distill_grad_scale.py',
               'configs/digits/sssd_retinanet_r18_fpn_digits.py',
               str(work_dir / 'sssd_seed100' / 'epoch_1.pth'), '--losses',
               'MSELoss', 'MSELoss:loss_weight=2',
               'JSDistanceLoss:tau=0.5,axis=channel',
               'JSDistanceLoss:tau=0.5,axis=channel,region=boxes',
               '--batches', '2',
               '--cfg-options'] + data_options)
    rows = {line.split('|')[1].strip(): line.split('|')[2:5]
            for line in out.splitlines() if line.startswith('| ')}
    value, grad, coef = (float(x) for x in rows['MSELoss:loss_weight=2'])
    assert float(rows['MSELoss'][0]) == pytest.approx(value / 2, rel=1e-3)
    assert coef == 0.5 and grad > 0
    value, _, coef = (float(x) for x in
                      rows['JSDistanceLoss:tau=0.5,axis=channel'])
    assert 0 < value <= 0.833 and coef > 0  # sqrt(ln 2) bounds it
    # the same distance on the boxes' cells only: another mean, still bound
    boxes = float(rows['JSDistanceLoss:tau=0.5,axis=channel,region=boxes'][0])
    assert 0 < boxes <= 0.833 and boxes != pytest.approx(value, rel=1e-4)
    # beside them the student's detection loss: each pull's gradient as a
    # fraction of its gradient, and their cosine
    full = {line.split('|')[1].strip(): line.split('|')[2:7]
            for line in out.splitlines() if line.startswith('| ')}
    det_value, det_grad = (float(x) for x in
                           full["detection (the student's)"][:2])
    assert det_value > 0 and det_grad > 0
    for name in ('MSELoss', 'MSELoss:loss_weight=2'):
        _, grad, _, fraction, cosine = full[name]
        assert float(fraction) == pytest.approx(
            float(grad) / det_grad, rel=1e-2, abs=1e-3)
        assert -1 <= float(cosine) <= 1
    # doubling the weight doubles the pull, not its direction
    assert float(full['MSELoss:loss_weight=2'][4]) == pytest.approx(
        float(full['MSELoss'][4]), abs=2e-3)
    # a config with ADL's logit term: its pull through the head, last row
    out = run(['tools/analysis_tools/distill_grad_scale.py',
               'configs/digits/sssd-decoupled-lam1-warmup3-adl_'
               'retinanet_r18_fpn_digits.py',
               str(work_dir / 'sssd_seed100' / 'epoch_1.pth'), '--losses',
               'JSDistanceLoss', '--batches', '2', '--anchors', '--levels',
               '--cfg-options'] + data_options)
    # --anchors: the logit term's gradient on the logits by anchor group,
    # a second table after the first (a config without the term: refused);
    # --levels: by FPN level, then by level and group
    first, *split = out.split("The logit term's gradient on")
    groups, levels, cross = (
        {line.split('|')[1].strip(): line.split('|')[2:8]
         for line in table.splitlines() if line.startswith('| ')}
        for table in split)
    for table in (groups, levels, cross):
        table.pop('group')
    assert list(levels) == [f'stride {s}' for s in (4, 8, 16, 32)]
    for name, level in levels.items():
        assert sum(float(g[0]) for key, g in cross.items()
                   if key.startswith(name + ':')) == pytest.approx(
                       float(level[0]), abs=3e-4)
    for column in (0, 1, 2):  # entries, a^2, b^2: all of each
        assert sum(float(x[column]) for x in levels.values()) == \
            pytest.approx(1, abs=3e-3)
    assert list(groups) == ['positive, its own class',
                            'positive, other classes',
                            'ignored by the assigner', 'background',
                            'outside the image or on padding']
    assert sum(float(g[0]) for g in groups.values()) == pytest.approx(
        1, abs=1e-3)
    # the detection loss does not see the anchors its assigner ignores
    ignored = groups['ignored by the assigner']
    assert float(ignored[0]) > 0
    assert float(ignored[2]) == 0 and ignored[3].strip() == 'n/a'
    assert float(groups['positive, its own class'][5]) < 0
    result = subprocess.run(
        [sys.executable, 'tools/analysis_tools/distill_grad_scale.py',
         'configs/digits/sssd_retinanet_r18_fpn_digits.py', '--anchors'],
        cwd=ROOT, env=tools_env(PYTHONWARNINGS='ignore'),
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and \
        'has no logit_distill_loss' in result.stderr, result.stderr
    rows = [line.split('|')[1:7] for line in first.splitlines()
            if line.startswith('| ')][2:]  # the header, the detection row
    assert [r[0].strip() for r in rows] == [
        'JSDistanceLoss',
        "AdaptiveDistillLoss (the config's, on the logits)"]
    value, grad, _, fraction, cosine = (float(x) for x in rows[1][1:])
    # after one smoke epoch both sides' scores may still sit at the head's
    # prior (a term and a gradient of about 0): the row is checked for its
    # consistency with the detection row
    assert value >= 0 and grad >= 0 and -1 <= cosine <= 1
    det_grad = float([line.split('|')[3] for line in out.splitlines()
                      if line.startswith('| detection')][0])
    assert fraction == pytest.approx(grad / det_grad, rel=1e-2, abs=1e-3)

    # a pretrained teacher: the job's baseline teaches with ADL + JS
    run(['tools/train.py',
         'configs/digits/adl-pretrained_retinanet_r18_fpn_digits.py',
         '--work-dir', str(tmp_path / 'pretrained'), '--cfg-options',
         'model.pretrained_teacher.checkpoint=' +
         str(work_dir / 'baseline_seed100' / 'epoch_1.pth'),
         f'train_dataloader.dataset.data_root={root}',
         f'val_dataloader.dataset.data_root={root}',
         f'val_evaluator.ann_file={root}val.json', backbone,
         'train_cfg.max_epochs=1',
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
    out = run(['tools/analysis_tools/compare_zoo.py', str(tmp_path / 'a'),
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


def test_make_digits_data_coco_layout(tmp_path):
    out = run(['tools/dataset_converters/make_digits_data.py', '--out',
               str(tmp_path), '--train', '4', '--val', '2', '--test', '2',
               '--layout', 'coco'])
    for split in ('train', 'val', 'test'):
        assert (tmp_path / f'{split}.json').is_file()
        assert f'\n{split}: instances_per_image ' in out
    images = json.loads((tmp_path / 'test.json').read_text())['images']
    assert len(images) == 2 and images[0]['width'] == 192
    # the COCO layout's counts apart: on the 96-pixel scenes
    out = run(['tools/dataset_converters/make_digits_data.py', '--out',
               str(tmp_path / 'counts'), '--train', '4', '--val', '2',
               '--layout', 'coco-counts'])
    assert '\ntrain: instances_per_image ' in out
    images = json.loads((tmp_path / 'counts' / 'train.json').read_text())
    assert images['images'][0]['width'] == 96
