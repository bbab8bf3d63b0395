# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The embedded benchmark: baseline vs distilled students, handwritten digits.

    python tools/digits_benchmark.py [--methods baseline,sssd-decoupled]
                                     [--seeds 3]
                                     [--seed-offset 0 | --seed-list 0,1,2]
                                     [--full] [--jobs 2] [--threads T]
                                     [--work-dir DIR] [--smoke]
    python tools/digits_benchmark.py --table results.json

Generates the digits dataset if missing (tools/make_digits_data.py) and
pretrains the backbone on the train split's digits if missing
(tools/pretrain_digits_backbone.py), both once, into the data folder. Then it
trains each method of configs/digits/ on each seed, with the same initial
student (the pretrained backbone, and neck and head drawn from the seed) and
the same data order for every method of a seed (one process per run,
mmengine's log with ETA streamed), evaluates each epoch on val (200 images:
the curves) with mmdet's CocoMetric, scores each run's last checkpoint on
the held-out test split (2000 images of val's source digits, with its label
teacher where it has one), and prints two tables of the test AP: mean +- std
over seeds per method, and
for each distilled method its paired difference to the baseline (per seed,
mean, 95% Student-t interval, whether the interval excludes 0).

It writes to the work dir ``results.json`` (one record per run, the schema
of docs/benchmarks/digits/README.md), ``results.md`` (the tables),
``curves.png`` (val AP per epoch and, for a distilled method, lambda and LR
over the iterations) and ``teacher.png`` (tools/vis_teacher.py on a val
image). ``--table FILE`` prints the tables of a results.json (records of
several experiments are grouped by their ``experiment``).
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmdet_sssd.analysis.paired_comparison import (  # noqa: E402,F401
    comparison_tables, paired, t_interval, verdict)
CORES = os.cpu_count() or 1

CONFIGS = {
    'baseline': 'configs/digits/retinanet_r18_fpn_digits.py',
    'lgd': 'configs/digits/lgd_retinanet_r18_fpn_digits.py',
    # the recommended SSSD (a label teacher far ahead of its student) and
    # SSSD as published (configs/sssd/ scaled to the student)
    'sssd': 'configs/digits/sssd_retinanet_r18_fpn_digits.py',
    'sssd-published':
    'configs/digits/sssd-published_retinanet_r18_fpn_digits.py',
    'sssd-constant':
    'configs/digits/sssd-constant_retinanet_r18_fpn_digits.py',
    # the recommended teacher with lambda 10: ahead from epoch 2 and its
    # student not behind the baseline on the tuning seeds
    'sssd-lam10': 'configs/digits/sssd-lam10_retinanet_r18_fpn_digits.py',
    # the head never trained by the teacher, lambda 5: chosen on the
    # tuning seeds after the report of the others, the default job's SSSD
    'sssd-decoupled':
    'configs/digits/sssd-decoupled_retinanet_r18_fpn_digits.py',
    'ssim': 'configs/digits/ssim_retinanet_r18_fpn_digits.py',
    'adl': 'configs/digits/adl_retinanet_r18_fpn_digits.py',
    # semi-supervised: the labeled quarter only (also SAD's teacher), SAD
    # on it + the rest pseudo-labeled, and SAD with SSSD's label teacher
    'semi-baseline': 'configs/digits/retinanet_r18_fpn_digits-labeled.py',
    'sad': 'configs/digits/sad_retinanet_r18_fpn_digits.py',
    'sad-sssd': 'configs/digits/sad-sssd_retinanet_r18_fpn_digits.py',
}
# methods trained on the labeled quarter (+ pseudo-labels), compared with
# the semi-baseline; they run after it (its checkpoint is their teacher)
SEMI = ('sad', 'sad-sssd')
# iteration-based configs (the others count epochs)
ITER_BASED = ('semi-baseline', ) + SEMI
LABELED_FRACTION = 0.25
METRICS = [('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'),
           ('AP75', 'bbox_mAP_75'), ('APs', 'bbox_mAP_s'),
           ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l')]
# (train images, val images, epochs); the default's schedule is the
# configs' own
SIZES = dict(default=(1000, 200, 18), full=(4000, 500, 12), smoke=(8, 4, 1))
# held-out test images on which the final checkpoints are scored: val (200)
# draws each epoch's curve; its sampling noise, several AP between two
# models of equal test AP, decided the tuning (docs/benchmarks/digits)
TEST_IMAGES = dict(default=2000, full=2000, smoke=4)
# iterations of the iteration-based configs: as many as the epoch-based
# runs at batch 8 (the default's are the configs' own)
ITERS = dict(default=750, full=6000, smoke=4)
# pretraining of the backbone (crops, epochs); the default is the tool's
PRETRAIN = dict(default=dict(), full=dict(), smoke=dict(num_crops=128,
                                                        epochs=1, num_val=32))
BACKBONE_FILE = 'backbone.pth'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--methods', default='baseline,sssd-decoupled',
                        help=f'comma-separated, of {sorted(CONFIGS)}, or '
                        'NAME=CONFIG for another config (a NAME holding '
                        '"baseline" is a plain detector, others distil)')
    parser.add_argument('--seeds', type=int, default=2,
                        help='number of seeds: --seed-offset .. + N-1 '
                        '(default 2: baseline and SSSD on 2 seeds take '
                        'about 20 minutes on 2 cores)')
    parser.add_argument('--seed-offset', type=int, default=200,
                        help='first seed (default 200, the first of the '
                        'report\'s seeds 200-204; 100-104 are the tuning '
                        'seeds)')
    parser.add_argument('--seed-list', default=None,
                        help='comma-separated seeds; overrides --seeds and '
                        '--seed-offset')
    parser.add_argument('--full', action='store_true',
                        help='4000 train images, 12 epochs')
    parser.add_argument('--smoke', action='store_true',
                        help='a few iterations on tiny data (CI)')
    parser.add_argument('--jobs', type=int, default=min(2, CORES),
                        help='trainings run at once, their logs in '
                        '<run>/train.log (default: 2 on 2+ cores; 1 streams '
                        "mmengine's log); times are then per run under "
                        'sharing')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads per training (default: '
                        'cores / jobs; results differ slightly between '
                        'thread counts, the docs\' tables used 1)')
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'],
                        default='auto',
                        help='where the trainings and evaluations run '
                        '(default: cuda if torch sees a GPU, else cpu); '
                        'pair only runs of one device and machine')
    parser.add_argument('--work-dir', default='work_dirs/digits_benchmark')
    parser.add_argument('--experiment', default=None,
                        help='label stored in each record (default: the '
                        'work dir name)')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse finished runs of the work dir (a run dir '
                        'with its run.json), e.g. after an interruption')
    parser.add_argument('--reuse-only', action='store_true',
                        help='with --skip-existing: train nothing, '
                        'tabulate the finished runs (missing ones are '
                        'listed)')
    parser.add_argument('--data-root', default=None,
                        help='defaults to data/digits[_full|_smoke]')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value options for every run')
    parser.add_argument('--pseudo-thr', type=float, default=0.5,
                        help='score threshold of the pseudo-labels for '
                        'sad (tools/pseudo_label.py; default 0.5)')
    parser.add_argument('--no-figures', action='store_true',
                        help='skip curves.png and teacher.png')
    parser.add_argument('--step-cost', type=int, default=0, metavar='N',
                        help='only time N training steps of each method '
                        '(and of --step-cost-configs), interleaved in one '
                        'process on one thread, on the job\'s data')
    parser.add_argument('--step-cost-configs', nargs='+', default=[],
                        help='more configs to time with --step-cost (e.g. '
                        'an older version of a digits config)')
    parser.add_argument('--table', default=None, metavar='RESULTS_JSON',
                        help='only print the tables of a results.json')
    args = parser.parse_args(argv)
    args.methods = args.methods.split(',')
    for i, method in enumerate(args.methods):
        if '=' in method:
            name, path = method.split('=', 1)
            if not osp.isfile(path):
                parser.error(f'--methods {method}: no config file {path}')
            CONFIGS[name] = path
            args.methods[i] = name
    unknown = set(args.methods) - set(CONFIGS)
    if unknown:
        parser.error(f'unknown methods {sorted(unknown)}; choose from '
                     f'{sorted(CONFIGS)}')
    if any(m in SEMI for m in args.methods) and \
            'semi-baseline' not in args.methods:
        # SAD's teacher, and the reference of its paired differences
        args.methods.insert(0, 'semi-baseline')
    if args.seed_list:
        args.seed_list = [int(s) for s in args.seed_list.split(',')]
    else:
        args.seed_list = list(range(args.seed_offset,
                                    args.seed_offset + args.seeds))
    return args


def phase(msg):
    print(f'\n[digits-benchmark {time.strftime("%H:%M:%S")}] {msg}',
          flush=True)


def code_version():
    """The commit the runs used, ``-dirty`` with uncommitted changes."""
    try:
        return subprocess.run(
            ['git', 'describe', '--always', '--dirty'], cwd=ROOT,
            capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def machine(device='cpu'):
    """The machine in words: CPU model, cores, and the GPU the runs used
    (``device='cuda'``) or 'CPU only'."""
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    if device == 'cuda':
        import torch
        return (f'{model}, {os.cpu_count()} cores, '
                f'{torch.cuda.get_device_name(0)}')
    return f'{model}, {os.cpu_count()} cores, CPU only'


# ---------------------------------------------------------------- statistics
def comparisons(methods):
    """(method, reference) pairs: each distilled method against the
    baseline (the semi-supervised ones against the semi-baseline), SSSD
    against each other distilled method, SAD with SSSD against SAD."""
    def reference(m):
        return 'semi-baseline' if m in SEMI else 'baseline'
    pairs = [(m, reference(m)) for m in methods
             if m not in ('baseline', 'semi-baseline')
             and reference(m) in methods]
    if 'sssd' in methods:
        pairs += [('sssd', m) for m in methods if m not in
                  ('sssd', 'baseline', 'semi-baseline') + SEMI]
    if 'sssd-published' in methods and 'lgd' in methods:
        pairs.append(('sssd-published', 'lgd'))  # the two as published
    if 'sad' in methods and 'sad-sssd' in methods:
        pairs.append(('sad-sssd', 'sad'))
    return pairs


def tables(records):
    """Markdown: mean +- std per method, then the paired differences."""
    methods = list(dict.fromkeys(r['method'] for r in records))
    return comparison_tables(records, comparisons(methods))


def print_tables(path):
    with open(path) as f:
        records = json.load(f)
    for experiment in dict.fromkeys(r['experiment'] for r in records):
        group = [r for r in records if r['experiment'] == experiment]
        print(f'### {experiment}\n')
        print(tables(group) + '\n')


# ------------------------------------------------------------------ running
def train_command(config, work_dir, options):
    """tools/train.py on ``config`` into ``work_dir``."""
    return [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
            '--work-dir', work_dir, '--cfg-options'] + options


def test_command(run_dir, options):
    """Scores the run's last checkpoint on the test split (``options``
    point the test dataloader and metric at it): tools/test.py, or for a
    label teacher tools/eval_teacher.py (the student and its teacher),
    into ``<run_dir>/test``."""
    with open(osp.join(run_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    config = glob.glob(osp.join(run_dir, '*.py'))[0]
    tool = 'eval_teacher.py' if scores_teacher(run_dir) else 'test.py'
    return [sys.executable, osp.join(ROOT, 'tools', tool), config,
            checkpoint, '--work-dir', osp.join(run_dir, 'test'),
            '--cfg-options'] + options


def start(cmd, log_file, threads):
    """Starts ``cmd`` with ``threads`` torch threads; its output goes to
    ``log_file``, or to this terminal where that is None."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    if log_file is None:
        return subprocess.Popen(cmd, cwd=ROOT, env=env)
    os.makedirs(osp.dirname(log_file), exist_ok=True)
    log = open(log_file, 'w')
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def run_all(pending, jobs, threads):
    """Runs the (key, what, command, log file) tasks of the list
    ``pending``, ``jobs`` at a time; yields (key, wall seconds, peak RSS in
    MB, CPU seconds) as each one ends. The caller may append tasks to
    ``pending`` meanwhile (a run's scoring after its training)."""
    running = {}
    while pending or running:
        while pending and len(running) < jobs:
            key, what, cmd, log_file = pending.pop(0)
            phase(f'{key[0]}, seed {key[1]}: {what}'
                  + (f' (log: {log_file})' if log_file else ''))
            proc = start(cmd, log_file, threads)
            # keep the Popen: a collected one may be reaped by subprocess
            running[proc.pid] = (key, what, time.time(), cmd, log_file,
                                 proc)
        for pid in list(running):
            pid, status, usage = os.wait4(pid, os.WNOHANG)
            if pid:
                break
        else:
            time.sleep(0.5)
            continue
        key, what, began, cmd, log_file, _ = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if code:
            for other in running.values():
                other[-1].terminate()
            sys.exit(f'{what} failed ({code}): {" ".join(cmd)}'
                     + (f'\nits log: {log_file}' if log_file else ''))
        yield (key, time.time() - began, usage.ru_maxrss / 1024,
               usage.ru_utime + usage.ru_stime)


def scores_teacher(run_dir):
    """Whether the run's config (dumped by the runner) validates with
    SelfDistillValLoop, i.e. has a label teacher to score."""
    return any('SelfDistillValLoop' in open(p).read()
               for p in glob.glob(osp.join(run_dir, '*.py')))


def read_test_metrics(run_dir):
    """The metrics of the run's newest scoring on the test split, as
    logged, with 0 for an empty metric (no box above the threshold)."""
    out = osp.join(run_dir, 'test')
    # test.py logs to <ts>/<ts>.json, eval_teacher.py (a val loop) to
    # <ts>/vis_data/scalars.json: the newest run's metrics
    newest = sorted(d for d in os.listdir(out)
                    if osp.isdir(osp.join(out, d)))[-1]
    metrics = {}
    for path in glob.glob(osp.join(out, newest, '**', '*.json'),
                          recursive=True):
        with open(path) as f:
            for line in f:
                metrics.update(json.loads(line))
    prefixes = ['coco/'] + (['teacher/coco/']
                            if scores_teacher(run_dir) else [])
    for prefix in prefixes:
        if f'{prefix}bbox_mAP' not in metrics:
            print(f'[digits-benchmark] {run_dir}: no detections of '
                  f'{prefix[:-1]} on the test split: AP counted as 0',
                  flush=True)
            metrics.update({f'{prefix}{key}': 0.0 for _, key in METRICS})
    return metrics


def test_record(metrics):
    """The test split's AP (percent) of the student, and of the label
    teacher and both class-agnostic where logged."""
    record = {name: None if metrics[f'coco/{key}'] == -1 else
              round(100 * max(metrics[f'coco/{key}'], 0.0), 1)
              for name, key in METRICS}
    for name, prefix in (('teacher_AP', 'teacher/coco/'),
                         ('teacher_agnostic_AP', 'teacher/coco_agnostic/'),
                         ('agnostic_AP', 'coco_agnostic/')):
        if f'{prefix}bbox_mAP' in metrics:
            record[name] = round(100 * metrics[f'{prefix}bbox_mAP'], 1)
    return record


def read_scalars(work_dir):
    """Train and val records of the newest run in ``work_dir``."""
    runs = sorted(d for d in os.listdir(work_dir)
                  if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                         'scalars.json')))
    with open(osp.join(work_dir, runs[-1], 'vis_data', 'scalars.json')) as f:
        records = [json.loads(line) for line in f]
    train = [r for r in records if 'lr' in r]
    # One record per validation; CocoMetric logs no metrics when no box
    # passed the score threshold: that is an AP of 0.
    val = [r for r in records if 'lr' not in r and 'step' in r]
    prefixes = ['coco/'] + (['teacher/coco/']
                            if scores_teacher(work_dir) else [])
    # the class-agnostic AP (SelfDistillValLoop with a CocoMetric)
    prefixes += [p for p in ('coco_agnostic/', 'teacher/coco_agnostic/')
                 if any(f'{p}bbox_mAP_50' in r for r in val)]
    for r in val:
        for prefix in prefixes:
            if f'{prefix}bbox_mAP' not in r:
                print(f'[digits-benchmark] {work_dir}: no detections of '
                      f'{prefix[:-1]} at validation {r["step"]}: AP '
                      f'counted as 0', flush=True)
                r.update({f'{prefix}{key}': 0.0 for _, key in METRICS})
    return train, val


def plot(runs, methods, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_ap, ax_coef) = plt.subplots(1, 2, figsize=(11, 4))
    for i, method in enumerate(methods):
        for key, style, name in (('val_ap', '-', method),
                                 ('teacher_val_ap', '--',
                                  f'{method}: its label teacher'),
                                 ('teacher_agnostic_val_ap', ':',
                                  f'{method}: its label teacher, '
                                  'class-agnostic')):
            curves = [r[key] for r in runs
                      if r['method'] == method and r.get(key)]
            if not curves:
                continue
            epochs = range(1, min(map(len, curves)) + 1)
            mean = [statistics.mean(c[e - 1] for c in curves)
                    for e in epochs]
            ax_ap.plot(list(epochs), mean, style, marker='o', color=f'C{i}',
                       label=name)
    ax_ap.set(xlabel='validation (each epoch; each 150 iterations for '
              'the semi-supervised runs)', ylabel='val AP (%)',
              title='val AP'
              + (' (mean over seeds)' if len(runs) > len(methods) else ''))
    ax_ap.legend()
    distilled = [m for m in methods if 'baseline' not in m]
    if distilled:
        run = next(r for r in runs if r['method'] == distilled[-1])
        iters = [p[0] for p in run['schedule']]
        ax_coef.plot(iters, [p[1] for p in run['schedule']], color='C3',
                     label='lambda (distill_coef)')
        ax_coef.set(xlabel='iteration', ylabel='lambda',
                    title=f'{distilled[-1]}: lambda and LR')
        ax_lr = ax_coef.twinx()
        ax_lr.plot(iters, [p[2] for p in run['schedule']], color='C0',
                   label='LR')
        ax_lr.set_ylabel('LR')
        ax_coef.legend(loc='upper left')
        ax_lr.legend(loc='lower left')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def step_cost(configs, data_root, steps, num_train):
    """Median seconds of one training step (forward, backward, AdamW step)
    of each config, the configs' steps interleaved on one thread so that
    they share the machine's load alike; also times the config's whole
    schedule (steps per run x median)."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    import mmdet_sssd  # noqa: F401
    from mmdet_sssd.models.distill.phases import Phase
    torch.set_num_threads(1)
    models, batches = {}, {}
    for name, path in configs:
        cfg = Config.fromfile(path)
        cfg.model.get('detector', cfg.model).backbone.init_cfg = None
        model = MODELS.build(cfg.model)
        model.init_weights()
        model.train()
        if hasattr(model, 'phases'):  # past any warm-up (the hook's job)
            model.phase = Phase()
        loader = cfg.train_dataloader
        loader.dataset.data_root = data_root + '/'
        if loader.batch_size not in batches:
            batches[loader.batch_size] = [
                b for _, b in zip(range(8), Runner.build_dataloader(loader))]
        iters = cfg.train_cfg.max_epochs * math.ceil(
            num_train / loader.batch_size)
        models[name] = (model, torch.optim.AdamW(model.parameters(),
                                                 lr=1e-5),
                        loader.batch_size, iters)
    # the method's floor: the baseline with its head run a second time on
    # a gradient-carrying copy of its maps (tools/benchmark_overhead.py)
    if 'baseline' in models:
        from benchmark_overhead import Floor
        cfg = Config.fromfile(CONFIGS['baseline'])
        cfg.model.backbone.init_cfg = None
        floor = Floor(MODELS.build(cfg.model))
        floor.student.init_weights()
        models['floor (baseline + its head again)'] = (
            floor.train(), torch.optim.AdamW(floor.parameters(), lr=1e-5),
            models['baseline'][2], models['baseline'][3])
    times = {name: [] for name in models}
    for i in range(steps + 2):
        for name, (model, optim, bs, _) in models.items():
            batch = batches[bs][i % len(batches[bs])]
            start = time.perf_counter()
            data = model.data_preprocessor(batch, True)
            loss, _ = model.parse_losses(model(**data, mode='loss'))
            optim.zero_grad()
            loss.backward()
            optim.step()
            if i >= 2:  # the first steps warm up the allocator
                times[name].append(time.perf_counter() - start)
    lines = ['| config | batch | s / step (median) | x baseline | steps '
             f'per run ({num_train} images) | s of steps per run |',
             '|---|---|---|---|---|---|']
    base = statistics.median(times.get('baseline') or next(iter(
        times.values())))
    for name, (_, _, bs, iters) in models.items():
        med = statistics.median(times[name])
        lines.append(f'| {name} | {bs} | {med:.3f} | {med / base:.2f} | '
                     f'{iters} | {med * iters:.0f} |')
    return '\n'.join(lines)


def make_pseudo_labels(work_dir, seed, data_root, iters, score_thr, threads):
    """tools/pseudo_label.py with the seed's semi-baseline on the train
    images left unlabeled; returns the file and the pseudo-labels' quality
    against the hidden true boxes of those images (IoU >= 0.5, same
    class): the numbers of boxes, precision and recall."""
    out = osp.join(work_dir, f'pseudo_seed{seed}.json')
    ckpt = osp.join(work_dir, f'semi-baseline_seed{seed}', f'iter_{iters}.pth')
    phase(f'pseudo-labeling the unlabeled images with {ckpt}')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run([
        sys.executable, osp.join(ROOT, 'tools', 'pseudo_label.py'),
        CONFIGS['semi-baseline'], ckpt,
        osp.join(data_root, 'train_unlabeled.json'), out,
        '--img-dir', osp.join(data_root, 'images'), '--score-thr',
        str(score_thr), '--device', 'cpu', '--batch-size', '16',
        '--categories-from', osp.join(data_root, 'train_labeled.json'),
        # the detector's own test threshold must not cut above ours
        '--cfg-options', f'model.test_cfg.score_thr={min(score_thr, 0.05)}'],
        cwd=ROOT, env=env, check=True)
    quality = pseudo_quality(out, data_root, score_thr)
    if not quality['boxes']:
        sys.exit(f'no pseudo-label scored {score_thr} or more ({ckpt}); '
                 f'lower --pseudo-thr')
    phase(f'pseudo-labels: {quality}')
    return out, quality


def pseudo_quality(pseudo_file, data_root, score_thr):
    """Greedy matching by score of each unlabeled image's pseudo-boxes to
    its true boxes (train.json) of the same class at IoU >= 0.5."""
    with open(pseudo_file) as f:
        pseudo = json.load(f)
    with open(osp.join(data_root, 'train.json')) as f:
        true = json.load(f)
    with open(osp.join(data_root, 'train_unlabeled.json')) as f:
        unlabeled = {i['id'] for i in json.load(f)['images']}
    by_image = {}
    for a in true['annotations']:
        if a['image_id'] in unlabeled:
            by_image.setdefault(a['image_id'], []).append(a)
    hits = 0
    for image_id in unlabeled:
        boxes = sorted((a for a in pseudo['annotations']
                        if a['image_id'] == image_id),
                       key=lambda a: -a['score'])
        free = list(by_image.get(image_id, []))
        for box in boxes:
            x, y, w, h = box['bbox']
            best, match = 0.5, None
            for t in free:
                if t['category_id'] != box['category_id']:
                    continue
                tx, ty, tw, th = t['bbox']
                iw = max(0.0, min(x + w, tx + tw) - max(x, tx))
                ih = max(0.0, min(y + h, ty + th) - max(y, ty))
                iou = iw * ih / (w * h + tw * th - iw * ih)
                if iou >= best:
                    best, match = iou, t
            if match is not None:
                free.remove(match)
                hits += 1
    num_pseudo = len(pseudo['annotations'])
    num_true = sum(map(len, by_image.values()))
    return dict(score_thr=score_thr, boxes=num_pseudo, true_boxes=num_true,
                precision=round(hits / max(num_pseudo, 1), 3),
                recall=round(hits / max(num_true, 1), 3))


def prepare_data(data_root, size, num_train, num_val, num_test):
    """Generates the dataset and pretrains the backbone, each only if
    missing or made by another generator version / size; a missing test
    split is added alone (train, val and the backbone stay as they are)."""
    from mmdet_sssd.datasets import GENERATOR_VERSION, generate_digits_coco
    meta = dict(generator=GENERATOR_VERSION, num_train=num_train,
                num_val=num_val, seed=0)
    meta_file = osp.join(data_root, 'meta.json')
    backbone = osp.join(data_root, BACKBONE_FILE)
    current = None
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            current = json.load(f)
    num_test_there = (current or {}).pop('num_test', 0)
    if current != meta:
        num_test_there = 0
        phase(f'generating the digits dataset in {data_root}')
        start = time.time()
        generate_digits_coco(data_root, num_train, num_val)
        with open(meta_file, 'w') as f:
            json.dump(meta, f)
        if osp.isfile(backbone):
            os.remove(backbone)  # pretrained on another generator's crops
        phase(f'generated in {time.time() - start:.0f} s')
    else:
        phase(f'using the digits dataset in {data_root}')
    if num_test_there != num_test or not osp.isfile(
            osp.join(data_root, 'test.json')):
        phase(f'generating the {num_test} test images in {data_root}')
        generate_digits_coco(data_root, num_train, num_val,
                             num_test=num_test, splits=('test', ))
        with open(meta_file, 'w') as f:
            json.dump(dict(meta, num_test=num_test), f)
    split = [osp.join(data_root, f'train_{kind}.json')
             for kind in ('labeled', 'unlabeled')]
    if not all(map(osp.isfile, split)) or current != meta:
        from mmdet_sssd.datasets import split_coco_labeled
        labeled, unlabeled = split_coco_labeled(
            osp.join(data_root, 'train.json'), *split, LABELED_FRACTION)
        phase(f'split of the train images for sad: {labeled} labeled, '
              f'{unlabeled} unlabeled')
    if not osp.isfile(backbone):
        phase(f'pretraining the backbone on the train digits -> {backbone}')
        from mmdet_sssd.datasets.digits_pretrain import \
            pretrain_digits_backbone
        import resource
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        pretrain_digits_backbone(backbone, **PRETRAIN[size])
        after = resource.getrusage(resource.RUSAGE_SELF)
        phase('pretraining took {:.0f} CPU seconds'.format(
            after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime))
    else:
        phase(f'using the pretrained backbone {backbone}')
    return backbone


def main():
    args = parse_args()
    if args.table:
        print_tables(args.table)
        return
    size = 'smoke' if args.smoke else 'full' if args.full else 'default'
    num_train, num_val, epochs = SIZES[size]
    data_root = args.data_root or osp.join(
        'data', 'digits' + ('' if size == 'default' else f'_{size}'))
    data_root = osp.abspath(data_root)
    work_dir = osp.abspath(args.work_dir)
    experiment = args.experiment or osp.basename(work_dir.rstrip('/'))
    os.makedirs(work_dir, exist_ok=True)
    threads = args.threads or max(1, CORES // args.jobs)
    import torch
    if args.device == 'auto':
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: torch sees no CUDA device (a CPU-only '
                 'torch build, or CUDA_VISIBLE_DEVICES); use --device cpu')
    if args.device == 'cpu':
        # the job's trainings and evaluations inherit it: mmengine's
        # runner then keeps to the CPU on a machine with a GPU too
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
    job_start = time.time()
    num_test = TEST_IMAGES[size]
    backbone = prepare_data(data_root, size, num_train, num_val, num_test)
    if args.step_cost:
        configs = [(m, CONFIGS[m]) for m in args.methods] + [
            (p, p) for p in args.step_cost_configs]
        print(step_cost(configs, data_root, args.step_cost, num_train))
        return

    root = data_root + '/'
    iters = ITERS[size]
    evaluation = [
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={root}val.json',
        f'test_evaluator.ann_file={root}val.json',
    ]
    if args.smoke:
        evaluation += ['train_dataloader.batch_size=2',
                       'val_dataloader.batch_size=2',
                       'default_hooks.logger.interval=1']

    def schedule_options(method):
        if size == 'default':
            return []
        if method in ITER_BASED:
            return [f'train_cfg.max_iters={iters}',
                    f'train_cfg.val_interval={max(1, iters // 5)}',
                    f'param_scheduler.1.end={iters}',
                    f'param_scheduler.1.milestones=[{iters * 2 // 3},'
                    f'{iters * 5 // 6}]',
                    f'default_hooks.checkpoint.interval={iters}']
        milestones = [max(1, epochs * 2 // 3), max(1, epochs * 5 // 6)]
        return [f'train_cfg.max_epochs={epochs}',
                f'param_scheduler.1.end={epochs}',
                f'param_scheduler.1.milestones=[{milestones[0]},'
                f'{milestones[1]}]',
                f'default_hooks.checkpoint.interval={epochs}']

    def method_options(method):
        if method in SEMI:
            train = [f'train_dataloader.dataset.datasets.{i}.data_root={root}'
                     for i in (0, 1)]
            if args.smoke:
                train.append('train_dataloader.sampler.batch_size=2')
        else:
            train = [f'train_dataloader.dataset.data_root={root}']
        # the baseline's backbone, or the distilled student's
        prefix = 'model.' if 'baseline' in method else 'model.detector.'
        return train + evaluation + schedule_options(method) + [
            f'{prefix}backbone.init_cfg.checkpoint={backbone}']

    # the final checkpoints are scored on the test split
    test_options = [f'test_dataloader.dataset.data_root={root}',
                    'test_dataloader.dataset.ann_file=test.json',
                    f'test_evaluator.ann_file={root}test.json']

    def write(run, run_dir):
        with open(osp.join(run_dir, 'run.json'), 'w') as f:
            json.dump(run, f)

    def add_test(run, run_dir):
        """The run's AP (and its teacher's) on the test split, from its
        scoring in ``<run_dir>/test``; the validation's last values as
        ``val_*``. Saved to the run's record."""
        for name in ['AP', 'teacher_AP', 'teacher_agnostic_AP',
                     'agnostic_AP']:
            curve = run.get(f'{name[:-3]}_val_ap' if name != 'AP' else
                            'val_ap')
            if curve:
                run[f'val_{name}'] = curve[-1]
            run.pop(name, None)  # a record of val only: not the test's
        run.update(test_record(read_test_metrics(run_dir)), split='test',
                   num_test=num_test)
        write(run, run_dir)

    runs, done = [], set()
    for method in args.methods:
        for seed in args.seed_list:
            record = osp.join(work_dir, f'{method}_seed{seed}', 'run.json')
            if args.skip_existing and osp.isfile(record):
                with open(record) as f:
                    run = json.load(f)
                if run.get('split') != 'test':  # a record of val only
                    phase(f'{method}, seed {seed}: scoring the finished '
                          f'run on the test split')
                    run_dir = osp.dirname(record)
                    for _ in run_all([((method, seed), 'scoring',
                                       test_command(run_dir, test_options),
                                       osp.join(run_dir, 'test.log'))],
                                     1, threads):
                        add_test(run, run_dir)  # its own experiment label
                run['experiment'] = experiment
                runs.append(run)
                done.add((method, seed))
                phase(f'{method}, seed {seed}: reusing the finished run')
    pseudo = {}

    def task(method, seed):
        extra = []
        if method in SEMI:  # the seed's semi-baseline teaches
            teacher = osp.join(work_dir, f'semi-baseline_seed{seed}',
                               f'iter_{iters}.pth')
            extra = [f'model.pretrained_teacher.checkpoint={teacher}',
                     'train_dataloader.dataset.datasets.1.ann_file='
                     f'{pseudo[seed][0]}']
        run_dir = osp.join(work_dir, f'{method}_seed{seed}')
        cmd = train_command(
            CONFIGS[method], run_dir,
            # the same seed and data order for every method
            method_options(method) + extra +
            [f'randomness.seed={seed}',
             f'train_dataloader.sampler.seed={seed}'] + args.cfg_options)
        # one job streams mmengine's log; several write it to files
        log = None if args.jobs == 1 else osp.join(run_dir, 'train.log')
        return (method, seed), 'training', cmd, log

    todo = [(method, seed) for seed in args.seed_list
            for method in args.methods if (method, seed) not in done]
    if args.reuse_only:
        for method, seed in todo:
            phase(f'{method}, seed {seed}: no finished run, left out')
        todo = []
    command = shlex.join(['python', 'tools/digits_benchmark.py'] +
                         sys.argv[1:])
    code = code_version()

    def finish(method, seed, seconds, peak_mb, cpu_s):
        run_dir = osp.join(work_dir, f'{method}_seed{seed}')
        train, val = read_scalars(run_dir)
        run = dict(experiment=experiment, method=method, seed=seed)
        run.update(
            train_s=round(seconds, 1), cpu_s=round(cpu_s, 1),
            peak_mb=round(peak_mb),
            epochs=None if method in ITER_BASED else epochs,
            iters=iters if method in ITER_BASED else None,
            num_train=num_train, num_val=num_val,
            config=CONFIGS[method], cfg_options=args.cfg_options,
            threads=threads, jobs=args.jobs, command=command,
            device=args.device, machine=machine(args.device),
            date=time.strftime('%Y-%m-%d'),
            # the machine's load when the run ended: others' work slows it
            load_1min=round(os.getloadavg()[0], 1), code=code,
            val_ap=[round(100 * v['coco/bbox_mAP'], 1) for v in val],
            # SelfDistillValLoop: the label teacher at each validation
            teacher_val_ap=[round(100 * v['teacher/coco/bbox_mAP'], 1)
                            for v in val if 'teacher/coco/bbox_mAP' in v]
            or None,
            # the class-agnostic AP of the teacher and of its student
            **{f'{name}_val_ap': [round(100 * v[f'{key}/bbox_mAP'], 1)
                                  for v in val if f'{key}/bbox_mAP' in v]
               or None
               for name, key in (('teacher_agnostic',
                                  'teacher/coco_agnostic'),
                                 ('agnostic', 'coco_agnostic'))},
            schedule=[(r['iter'], r.get('distill_coef'), r['lr'])
                      for r in train])
        if method in SEMI:
            run['pseudo_labels'] = pseudo[seed][1]
        # the val record first: a job stopped while scoring resumes
        # (--skip-existing) by scoring it
        write(run, run_dir)
        return run

    def run_and_score(tasks):
        """Each training, then its scoring on the test split in the
        queue of the same ``--jobs`` slots."""
        trained = {}
        for (method, seed), seconds, peak_mb, cpu_s in run_all(
                tasks, args.jobs, threads):
            run_dir = osp.join(work_dir, f'{method}_seed{seed}')
            if (method, seed) not in trained:
                trained[(method, seed)] = finish(method, seed, seconds,
                                                 peak_mb, cpu_s)
                tasks.append(((method, seed), 'scoring on the test split',
                              test_command(run_dir, test_options),
                              osp.join(run_dir, 'test.log')))
                continue
            run = trained[(method, seed)]
            add_test(run, run_dir)
            runs.append(run)
            phase(f'{method}, seed {seed}: test AP {run["AP"]:.1f} '
                  f'(trained in {run["train_s"]:.0f} s)')

    run_and_score([task(m, s) for m, s in todo if m not in SEMI])
    semi = [(m, s) for m, s in todo if m in SEMI]
    for seed in sorted({s for _, s in semi}):
        pseudo[seed] = make_pseudo_labels(
            work_dir, seed, data_root, iters, args.pseudo_thr, threads)
    run_and_score([task(m, s) for m, s in semi])
    order = {m: i for i, m in enumerate(args.methods)}
    runs.sort(key=lambda r: (order[r['method']], r['seed']))
    records = [{k: v for k, v in r.items()
                if not k.endswith('val_ap') and k != 'schedule'}
               for r in runs]
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(records, f, indent=1)

    table = tables(records)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(f'Digits benchmark ({size}: {num_train} train / {num_val} '
                f'val / {num_test} test images, scored on test, {epochs} '
                f'epochs, seeds {args.seed_list}; '
                f'{machine(args.device)})\n\n{table}\n')
    if not args.no_figures and runs:
        plot(runs, args.methods, osp.join(work_dir, 'curves.png'))
        # the label teacher's maps: epoch-based methods with one
        distilled = [m for m in args.methods if m not in ITER_BASED
                     and m != 'baseline']
        if distilled:
            phase('what the teacher teaches: teacher.png')
            method = 'sssd' if 'sssd' in distilled else distilled[-1]
            run_dir = osp.join(work_dir,
                               f'{method}_seed{args.seed_list[0]}')
            ckpt = osp.join(run_dir, f'epoch_{epochs}.pth')
            with open(osp.join(data_root, 'val.json')) as f:
                image = json.load(f)['images'][0]['file_name']
            subprocess.run([
                sys.executable, osp.join(ROOT, 'tools', 'vis_teacher.py'),
                CONFIGS[method], ckpt, osp.join(data_root, 'images', image),
                '--out', osp.join(work_dir, 'teacher.png'),
                '--ann-file', osp.join(data_root, 'val.json'),
                '--cfg-options'] + method_options(method),
                cwd=ROOT, check=True)
    cpu = [r['cpu_s'] for r in runs if r.get('cpu_s')]
    if cpu:
        phase(f'the trainings of this job took {sum(cpu):.0f} CPU seconds')
    phase(f'done in {time.time() - job_start:.0f} s: {work_dir}/results.md'
          + ('' if args.no_figures else ', curves.png'))
    print('\n' + table, flush=True)
    print('\nThe full report (every method, tuning and reported seeds, the '
          'teacher beside its student): docs/benchmarks/digits/README.md',
          flush=True)


if __name__ == '__main__':
    main()
