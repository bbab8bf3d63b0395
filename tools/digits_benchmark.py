# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The embedded benchmark: baseline vs distilled students on handwritten digits.

    python tools/digits_benchmark.py [--methods baseline,sssd] [--seeds 1]
                                     [--full] [--jobs 1] [--work-dir DIR]
                                     [--smoke]

Generates the digits dataset if missing (tools/make_digits_data.py), trains
each method of configs/digits/ with the same schedule, seed and data (one
process per run, mmengine's log with ETA streamed), evaluates each epoch on
val with mmdet's CocoMetric, and prints a table (mean +- std over seeds):

    method | AP | AP50 | AP75 | APs | APm | APl | train time | peak memory

It writes ``results.json``, ``results.md``, ``curves.png`` (val AP per epoch
and, for SSSD, lambda and LR over the iterations) and ``teacher.png``
(tools/vis_teacher.py on a val image) to the work dir.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

CONFIGS = {
    'baseline': 'configs/digits/retinanet_r18_fpn_digits.py',
    'lgd': 'configs/digits/lgd_retinanet_r18_fpn_digits.py',
    'sssd': 'configs/digits/sssd_retinanet_r18_fpn_digits.py',
    'ssim': 'configs/digits/ssim_retinanet_r18_fpn_digits.py',
    'adl': 'configs/digits/adl_retinanet_r18_fpn_digits.py',
}
METRICS = [('AP', 'bbox_mAP'), ('AP50', 'bbox_mAP_50'),
           ('AP75', 'bbox_mAP_75'), ('APs', 'bbox_mAP_s'),
           ('APm', 'bbox_mAP_m'), ('APl', 'bbox_mAP_l')]
# (train images, val images, epochs)
SIZES = dict(default=(1000, 200, 12), full=(4000, 500, 24), smoke=(8, 4, 1))


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--methods', default='baseline,sssd',
                        help=f'comma-separated, of {sorted(CONFIGS)}')
    parser.add_argument('--seeds', type=int, default=1,
                        help='seeds 0..N-1; mean +- std over them')
    parser.add_argument('--full', action='store_true',
                        help='4000 train images, 24 epochs')
    parser.add_argument('--smoke', action='store_true',
                        help='a few iterations on tiny data (CI)')
    parser.add_argument('--jobs', type=int, default=1,
                        help='trainings run at once (each with cores/jobs '
                        'threads, its log in <run>/train.log); times and '
                        'memory are then per run under sharing')
    parser.add_argument('--work-dir', default='work_dirs/digits_benchmark')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse finished runs of the work dir (a run dir '
                        'with its run.json, or listed in results.json), '
                        'e.g. after an interruption')
    parser.add_argument('--data-root', default=None,
                        help='defaults to data/digits[_full|_smoke]')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value options for every run')
    args = parser.parse_args()
    args.methods = args.methods.split(',')
    unknown = set(args.methods) - set(CONFIGS)
    if unknown:
        parser.error(f'unknown methods {sorted(unknown)}; choose from '
                     f'{sorted(CONFIGS)}')
    return args


def phase(msg):
    print(f'\n[digits-benchmark {time.strftime("%H:%M:%S")}] {msg}',
          flush=True)


def start_training(config, work_dir, options, jobs):
    """Starts tools/train.py; with several jobs its log goes to a file."""
    cmd = [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config,
           '--work-dir', work_dir, '--cfg-options'] + options
    if jobs == 1:
        return subprocess.Popen(cmd, cwd=ROOT), cmd
    os.makedirs(work_dir, exist_ok=True)
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    log = open(osp.join(work_dir, 'train.log'), 'w')
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT), cmd


def run_all(tasks, jobs):
    """Runs (key, config, work_dir, options) tasks, ``jobs`` at a time;
    yields (key, wall seconds, peak RSS in MB) as each one ends."""
    pending, running = list(tasks), {}
    while pending or running:
        while pending and len(running) < jobs:
            key, config, work_dir, options = pending.pop(0)
            phase(f'training {key[0]}, seed {key[1]} -> {work_dir}')
            proc, cmd = start_training(config, work_dir, options, jobs)
            # keep the Popen: a collected one may be reaped by subprocess
            running[proc.pid] = (key, time.time(), cmd, proc)
        for pid in list(running):
            pid, status, usage = os.wait4(pid, os.WNOHANG)
            if pid:
                break
        else:
            time.sleep(0.5)
            continue
        key, start, cmd, _ = running.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if code:
            sys.exit(f'training failed ({code}): {" ".join(cmd)}')
        yield key, time.time() - start, usage.ru_maxrss / 1024


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
    for r in val:
        if 'coco/bbox_mAP' not in r:
            print(f'[digits-benchmark] {work_dir}: no detections at '
                  f'validation {r["step"]}: AP counted as 0', flush=True)
            r.update({f'coco/{key}': 0.0 for _, key in METRICS})
    return train, val


def mean_std(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


def summarize(results, methods):
    header = ('| method | AP | AP50 | AP75 | APs | APm | APl | '
              'train time (s) | peak memory (MB) |')
    lines = [header, '|' + '---|' * 9]
    for method in methods:
        runs = results[method]
        cells = []
        for name, _ in METRICS:
            values = [r['final'][name] for r in runs]
            if min(values) < 0:  # COCO's -1: no object of that size
                cells.append('n/a')
                continue
            m, s = mean_std([100 * v for v in values])
            cells.append(f'{m:.1f} +- {s:.1f}' if len(runs) > 1 else
                         f'{m:.1f}')
        t, _ = mean_std([r['train_s'] for r in runs])
        mem, _ = mean_std([r['peak_mb'] for r in runs])
        lines.append(f'| {method} | ' + ' | '.join(cells) +
                     f' | {t:.0f} | {mem:.0f} |')
    return '\n'.join(lines)


def plot(results, methods, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_ap, ax_coef) = plt.subplots(1, 2, figsize=(11, 4))
    for method in methods:
        curves = [r['val_ap'] for r in results[method]]
        epochs = range(1, min(map(len, curves)) + 1)
        mean = [statistics.mean(c[e - 1] for c in curves) for e in epochs]
        ax_ap.plot(list(epochs), [100 * v for v in mean], marker='o',
                   label=method)
    ax_ap.set(xlabel='epoch', ylabel='val AP', title='val AP per epoch'
              + (' (mean over seeds)' if len(results[methods[0]]) > 1 else ''))
    ax_ap.legend()
    distilled = [m for m in methods if m != 'baseline']
    if distilled:
        run = results[distilled[-1]][0]
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


def main():
    args = parse_args()
    size = 'smoke' if args.smoke else 'full' if args.full else 'default'
    num_train, num_val, epochs = SIZES[size]
    data_root = args.data_root or osp.join(
        'data', 'digits' + ('' if size == 'default' else f'_{size}'))
    data_root = osp.abspath(data_root)
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)

    if not osp.isfile(osp.join(data_root, 'val.json')):
        phase(f'generating the digits dataset in {data_root}')
        from mmdet_sssd.datasets import generate_digits_coco
        generate_digits_coco(data_root, num_train, num_val)
    else:
        phase(f'using the digits dataset in {data_root}')

    root = data_root + '/'
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        f'val_evaluator.ann_file={root}val.json',
        f'test_evaluator.ann_file={root}val.json',
    ]
    if size != 'default':
        milestones = [max(1, epochs * 2 // 3), max(1, epochs * 11 // 12)]
        options += [
            f'train_cfg.max_epochs={epochs}',
            f'param_scheduler.1.end={epochs}',
            f'param_scheduler.1.milestones=[{milestones[0]},{milestones[1]}]',
            f'default_hooks.checkpoint.interval={epochs}',
        ]
    if args.smoke:
        options += ['train_dataloader.batch_size=2',
                    'val_dataloader.batch_size=2',
                    'default_hooks.logger.interval=1']

    results = {m: [] for m in args.methods}
    done = {}
    previous = osp.join(work_dir, 'results.json')
    if args.skip_existing and osp.isfile(previous):
        with open(previous) as f:
            for method, runs in json.load(f).items():
                for run in runs:
                    if osp.isdir(osp.join(work_dir,
                                          f'{method}_seed{run["seed"]}')):
                        done[(method, run['seed'])] = run
    for method in args.methods:
        for seed in range(args.seeds):
            record = osp.join(work_dir, f'{method}_seed{seed}', 'run.json')
            if args.skip_existing and osp.isfile(record):
                with open(record) as f:
                    done[(method, seed)] = json.load(f)
    for (method, seed), run in sorted(done.items()):
        if method in results and seed < args.seeds:
            phase(f'{method}, seed {seed}: reusing the finished run')
            results[method].append(run)
    tasks = [((method, seed), CONFIGS[method],
              osp.join(work_dir, f'{method}_seed{seed}'),
              # the same seed and data order for every method
              options + [f'randomness.seed={seed}',
                         f'train_dataloader.sampler.seed={seed}'] +
              args.cfg_options)
             for seed in range(args.seeds) for method in args.methods
             if (method, seed) not in done]
    for (method, seed), seconds, peak_mb in run_all(tasks, args.jobs):
        run_dir = osp.join(work_dir, f'{method}_seed{seed}')
        train, val = read_scalars(run_dir)
        final = {name: val[-1][f'coco/{key}'] for name, key in METRICS}
        # COCO gives -1 where a size has no objects
        final = {k: max(v, 0.0) if v != -1 else -1.0
                 for k, v in final.items()}
        results[method].append(dict(
            seed=seed, final=final, train_s=seconds, peak_mb=peak_mb,
            val_ap=[v['coco/bbox_mAP'] for v in val],
            schedule=[(r['iter'], r.get('distill_coef'), r['lr'])
                      for r in train]))
        with open(osp.join(run_dir, 'run.json'), 'w') as f:
            json.dump(results[method][-1], f)
        phase(f'{method}, seed {seed}: AP {100 * final["AP"]:.1f} '
              f'in {seconds:.0f} s')
        with open(osp.join(work_dir, 'results.json'), 'w') as f:
            json.dump(results, f, indent=1)  # kept if a later run fails
    for runs in results.values():
        runs.sort(key=lambda r: r['seed'])
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)

    table = summarize(results, args.methods)
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(f'Digits benchmark ({size}: {num_train} train / {num_val} '
                f'val images, {epochs} epochs, {args.seeds} seed(s))\n\n'
                f'{table}\n')
    plot(results, args.methods, osp.join(work_dir, 'curves.png'))
    distilled = [m for m in args.methods if m != 'baseline']
    if distilled:
        phase('what the teacher teaches: teacher.png')
        method = 'sssd' if 'sssd' in distilled else distilled[-1]
        run_dir = osp.join(work_dir, f'{method}_seed0')
        ckpt = osp.join(run_dir, f'epoch_{epochs}.pth')
        with open(osp.join(data_root, 'val.json')) as f:
            image = json.load(f)['images'][0]['file_name']
        subprocess.run([
            sys.executable, osp.join(ROOT, 'tools', 'vis_teacher.py'),
            CONFIGS[method], ckpt, osp.join(data_root, 'images', image),
            '--out', osp.join(work_dir, 'teacher.png'),
            '--ann-file', osp.join(data_root, 'val.json')
        ], cwd=ROOT, check=True)
    phase(f'done: {work_dir}/results.md, curves.png')
    print('\n' + table, flush=True)


if __name__ == '__main__':
    main()
