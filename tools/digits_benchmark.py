# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The embedded benchmark: baseline vs distilled students, handwritten digits.

    python tools/digits_benchmark.py [--methods baseline,sssd-decoupled-lam1-warmup3-adl]
                                     [--seeds 3]
                                     [--seed-offset 0 | --seed-list 0,1,2]
                                     [--full] [--train-images N] [--epochs E]
                                     [--layout digits|coco|coco-counts|
                                               coco-sizes]
                                     [--pretrain-scales digits|layout]
                                     [--jobs 2] [--threads T]
                                     [--work-dir DIR] [--smoke]
    python tools/digits_benchmark.py --table results.json [more.json ...]
                                     [--pool] [--seed-list 1500,1501]

Generates the digits dataset if missing
(tools/dataset_converters/make_digits_data.py) and pretrains the backbone
on the train split's digits if missing
(tools/benchmarks/pretrain_digits_backbone.py), both once, into the data
folder. By default 2000 train images (data/digits_train2000) for 18
epochs: the precise regime of docs/benchmarks/digits (``--train-images
1000`` trains the configs' own data; ``--layout coco`` scenes with COCO's
instances, categories and sizes per image, 192 pixels, in
data/digits_coco[_trainN], every pipeline resized to them; ``coco-counts``
and ``coco-sizes`` its two factors apart). Then it
trains each method of configs/digits/ on each seed, with
the same initial student (the pretrained backbone, and neck and head drawn
from the seed) and the same data order for every method of a seed (one
process per run, mmengine's log with ETA streamed), evaluates each epoch
on val (200 images: the curves) with mmdet's CocoMetric, scores each run's
last checkpoint on the held-out test split (2000 images of val's source
digits, with its label teacher where it has one), and prints the tables
of the test AP: mean +- std over seeds per method (and the std's 95%
chi-square interval), and for each distilled method its paired
difference to the baseline (per seed, mean, 95% Student-t interval and
its half-width, whether the interval excludes 0, the t-test's p).

It writes to the work dir ``results.json`` (one record per run, the schema
of docs/benchmarks/digits/README.md), ``curves.json`` (each run's val AP
per validation and train losses per epoch), ``results.md`` (the tables),
``curves.png`` (val AP per epoch and, for a distilled method, lambda and LR
over the iterations) and ``teacher.png``
(tools/analysis_tools/vis_teacher.py on a val image). ``--table FILE
[FILE ...]`` prints the tables of results.json files (records of several
experiments are grouped by their ``experiment``; ``--pool`` makes them
one, e.g. a test and its replication on other seeds; ``--seed-list``
keeps those seeds' records), or of curves.json files: each method's mean
val AP after each epoch, its teacher's, and its mean train losses.

The engine is mmdet_sssd.benchmarking (this job's preset:
mmdet_sssd/benchmarking/digits.py); tools/benchmarks/paired_comparison.py
runs the same paired comparison on any configs and data.
"""
import argparse
import os
import os.path as osp
import shlex
import sys
import time

from mmdet_sssd.analysis.curve_tables import record_tables
from mmdet_sssd.analysis.paired_comparison import (comparison_tables,
                                                   read_records)
from mmdet_sssd.benchmarking.digits import (CONFIGS, ITER_BASED, LAYOUTS,
                                            SEMI, SIZES, TEST_IMAGES,
                                            DigitsJob,
                                            comparisons, digits_root,
                                            epochs_for, plain_detector)
from mmdet_sssd.benchmarking.digits_data import prepare_data
from mmdet_sssd.benchmarking.launch import (add_launcher_arguments,
                                            launcher_from_args)
from mmdet_sssd.benchmarking.plots import plot_curves
from mmdet_sssd.benchmarking.pool import phase
from mmdet_sssd.benchmarking.run_records import machine
from mmdet_sssd.benchmarking.step_cost import step_cost

CORES = os.cpu_count() or 1
# the default job's train images; the configs' own (SIZES) are 1000
DEFAULT_TRAIN_IMAGES = 2000


def positive_int(text: str) -> int:
    """An argparse type: an integer of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'{value}: must be 1 or more')
    return value


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--methods',
                        default='baseline,sssd-decoupled-lam1-warmup3-adl',
                        help=f'comma-separated, of {sorted(CONFIGS)}, or '
                        'NAME=CONFIG for another config (a NAME holding '
                        '"baseline" is a plain detector, others distil)')
    parser.add_argument('--seeds', type=int, default=2,
                        help='number of seeds: --seed-offset .. + N-1 '
                        '(default 2: baseline and SSSD on 2 seeds took '
                        '15 minutes on a 2-core AMD EPYC of family 26, '
                        'data and pretraining included; a third would '
                        'pass 20)')
    parser.add_argument('--seed-offset', type=int, default=200,
                        help='first seed (default 200, the first of the '
                        'report\'s seeds 200-204; 100-104 are the tuning '
                        'seeds)')
    parser.add_argument('--seed-list', default=None,
                        help='comma-separated seeds; overrides --seeds and '
                        '--seed-offset (with --table: only their records)')
    parser.add_argument('--full', action='store_true',
                        help='4000 train images, 12 epochs')
    parser.add_argument('--smoke', action='store_true',
                        help='a few iterations on tiny data (CI)')
    parser.add_argument('--train-images', type=positive_int, default=None,
                        metavar='N',
                        help='train images (default 2000: the precise '
                        'regime of the docs; the configs\' own are 1000, '
                        'in data/digits), generated into their own data '
                        'folder (data/digits_trainN); with --full or '
                        '--smoke and no --epochs the epoch-based configs '
                        'train the size\'s iterations over N images (N '
                        'must divide them)')
    parser.add_argument('--layout', choices=sorted(LAYOUTS),
                        default='digits',
                        help='the scenes: digits (the configs\' own, 96 '
                        'pixels) or coco (COCO\'s instances, categories '
                        'and small / medium / large mix per image, 192 '
                        'pixels, generated into data/digits_coco...; every '
                        'pipeline\'s Resize scales to them); coco-counts '
                        '(COCO\'s instances and categories per image at '
                        'the digits scenes\' sizes, 96 pixels) and '
                        'coco-sizes (the digits scenes\' 2-6 objects at '
                        'COCO\'s sizes, 192 pixels) are coco\'s two '
                        'factors apart')
    parser.add_argument('--pretrain-scales', choices=['digits', 'layout'],
                        default='digits',
                        help='the glyph scales the backbone is pretrained '
                        'at: digits (10-32 pixels, the 96-pixel scenes\', '
                        'every record\'s before the 3700 probe) or layout '
                        '(the --layout\'s own: for coco and coco-sizes '
                        '8-150 pixels, '
                        'into backbone_coco_scales.pth beside the data)')
    parser.add_argument('--epochs', type=positive_int, default=None,
                        metavar='E',
                        help='epochs of the epoch-based configs (their LR '
                        'milestones and a distiller\'s epoch phases at the '
                        'same fractions of the run); default 18, the '
                        'configs\' own (LR x0.1 after 12 and 16); with '
                        '--full or --smoke the size\'s iterations; with '
                        '--table: only the records of E-epoch runs')
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
    # each training on several GPUs or nodes, as tools/dist_train.sh
    add_launcher_arguments(parser)
    parser.add_argument('--ema', type=float, default=None,
                        metavar='MOMENTUM',
                        help="train every arm with mmengine's EMAHook at "
                        'this momentum; records the averaged and the raw '
                        'weights of each run (AP, raw_AP)')
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
                        help='defaults to data/digits[_full|_smoke]'
                        '[_trainN]')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra key=value options for every run')
    parser.add_argument('--pseudo-thr', type=float, default=0.5,
                        help='score threshold of the pseudo-labels for '
                        'sad (tools/dataset_converters/pseudo_label.py; '
                        'default 0.5)')
    parser.add_argument('--no-figures', action='store_true',
                        help='skip curves.png and teacher.png')
    parser.add_argument('--step-cost', type=int, default=0, metavar='N',
                        help='only time N training steps of each method '
                        '(and of --step-cost-configs), interleaved in one '
                        'process on one thread, on the job\'s data (its '
                        '--layout and --device)')
    parser.add_argument('--step-cost-configs', nargs='+', default=[],
                        help='more configs to time with --step-cost (e.g. '
                        'an older version of a digits config)')
    parser.add_argument('--table', nargs='+', default=None,
                        metavar='RESULTS_JSON',
                        help='only print the tables of results.json files, '
                        'or of curves.json files (val AP and train losses '
                        'per epoch, each method\'s mean over its seeds); '
                        'each experiment on its own unless --pool; with '
                        '--seed-list only those seeds\' records')
    parser.add_argument('--pool', action='store_true',
                        help='with --table: the records of every '
                        'experiment as one (e.g. a test and its '
                        'replication on other seeds); a method and seed '
                        'twice is an error')
    args = parser.parse_args(argv)
    # with --table, only an --epochs the user gave filters the records
    args.table_epochs = args.epochs
    if args.pool and not args.table:
        parser.error('--pool pools the records of --table files')
    args.size = 'smoke' if args.smoke else 'full' if args.full else 'default'
    if args.size == 'default':
        # the precise regime (docs/benchmarks/digits: the baseline's sd
        # 0.73 AP over seeds 700-707): 2000 images, the configs' 18 epochs
        args.train_images = args.train_images or DEFAULT_TRAIN_IMAGES
        args.epochs = args.epochs or SIZES['default'][2]
    elif args.train_images is not None and args.epochs is None:
        try:
            epochs_for(args.size, args.train_images)
        except ValueError as e:
            parser.error(f'{e}, or give --epochs')
    args.methods = args.methods.split(',')
    # the digits configs and NAME=CONFIG ones
    args.configs = dict(CONFIGS)
    for i, method in enumerate(args.methods):
        if '=' in method:
            name, path = method.split('=', 1)
            if not osp.isfile(path):
                parser.error(f'--methods {method}: no config file {path}')
            args.configs[name] = osp.abspath(path)
            args.methods[i] = name
    unknown = set(args.methods) - set(args.configs)
    if unknown:
        parser.error(f'unknown methods {sorted(unknown)}; choose from '
                     f'{sorted(args.configs)}')
    if args.layout != 'digits' and any(m in ITER_BASED
                                       for m in args.methods):
        parser.error(f'--layout {args.layout}: the semi-supervised methods '
                     f'{list(ITER_BASED)} train on the configs\' own scenes '
                     'only')
    if any(m in SEMI for m in args.methods) and \
            'semi-baseline' not in args.methods:
        # SAD's teacher, and the reference of its paired differences
        args.methods.insert(0, 'semi-baseline')
    # the seeds named (with --table: the records kept)
    args.chosen_seeds = [int(s) for s in (args.seed_list or '').split(',')
                         if s]
    if args.chosen_seeds:
        args.seed_list = args.chosen_seeds
    else:
        args.seed_list = list(range(args.seed_offset,
                                    args.seed_offset + args.seeds))
    return args


def longest_first(todo):
    """The (method, seed) runs with the distilled ones (about twice a
    baseline's time) first, each group in its order: the job's slots then
    end together instead of a distilled run training alone at the end."""
    return sorted(todo, key=lambda run: plain_detector(run[0]))


def tables(records):
    """Markdown: mean +- std per method, then the paired differences."""
    methods = list(dict.fromkeys(r['method'] for r in records))
    return comparison_tables(records, comparisons(methods))


def select_device(args):
    """``--device``: auto is cuda where torch sees a GPU. On the CPU the
    job's trainings and evaluations inherit an empty CUDA_VISIBLE_DEVICES:
    mmengine's runner then keeps to the CPU on a machine with a GPU too."""
    import torch
    if args.device == 'auto':
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: torch sees no CUDA device (a CPU-only '
                 'torch build, or CUDA_VISIBLE_DEVICES); use --device cpu')
    if args.device == 'cpu':
        os.environ['CUDA_VISIBLE_DEVICES'] = ''


def reuse_finished(job, args):
    """With --skip-existing, the finished runs' records; and the (method,
    seed) runs left to train (none with --reuse-only)."""
    runs, done = [], set()
    for method in args.methods:
        for seed in args.seed_list:
            run = job.reuse(method, seed) if args.skip_existing else None
            if run is not None:
                runs.append(run)
                done.add((method, seed))
    todo = [(method, seed) for seed in args.seed_list
            for method in args.methods if (method, seed) not in done]
    if args.reuse_only:
        for method, seed in todo:
            phase(f'{method}, seed {seed}: no finished run, left out')
        todo = []
    return runs, todo


def report(job, runs, args, table):
    """results.md, and unless --no-figures curves.png and teacher.png (the
    label teacher's maps of an epoch-based distilled method)."""
    size = job.size
    with open(osp.join(job.work_dir, 'results.md'), 'w') as f:
        f.write(f'Digits benchmark ({size}: {job.num_train} train / '
                f'{job.num_val} val / {TEST_IMAGES[size]} test images, '
                f'{args.layout} scenes, scored on test, {job.epochs} '
                f'epochs, seeds {args.seed_list}; {machine(args.device)})'
                f'\n\n{table}\n')
    if args.no_figures or not runs:
        return
    plot_curves(runs, args.methods, osp.join(job.work_dir, 'curves.png'))
    distilled = [m for m in args.methods if m not in ITER_BASED
                 and m != 'baseline']
    if distilled:
        phase('what the teacher teaches: teacher.png')
        method = 'sssd' if 'sssd' in distilled else distilled[-1]
        job.teacher_figure(method, args.seed_list[0],
                           osp.join(job.work_dir, 'teacher.png'))


def main():
    args = parse_args()
    if args.table:
        try:
            records = read_records(args.table, args.chosen_seeds,
                                   args.pool, args.table_epochs)
        except ValueError as e:
            sys.exit(f'--pool: {e}')
        print(record_tables(records, comparisons))
        return
    size = args.size
    num_train, num_val, _ = SIZES[size]
    suffix = '' if size == 'default' else f'_{size}'
    if args.train_images not in (None, num_train):
        num_train = args.train_images
        suffix += f'_train{num_train}'
    layout = '' if args.layout == 'digits' else f'_{args.layout}'
    data_root = osp.abspath(args.data_root or osp.join(
        'data', 'digits' + layout + suffix))
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    threads = args.threads or max(1, CORES // args.jobs)
    select_device(args)
    job_start = time.time()
    backbone = prepare_data(data_root, size, num_train, num_val,
                            TEST_IMAGES[size], args.layout,
                            args.pretrain_scales)
    if args.step_cost:
        configs = [(m, osp.join(digits_root(), args.configs[m]))
                   for m in args.methods] + [
            (p, p) for p in args.step_cost_configs]
        print(step_cost(configs, data_root, args.step_cost, num_train,
                        LAYOUTS[args.layout], args.device))
        return
    job = DigitsJob(
        size, data_root, backbone, num_train=num_train, epochs=args.epochs,
        arms={m: args.configs[m] for m in args.methods}, work_dir=work_dir,
        experiment=args.experiment or osp.basename(work_dir.rstrip('/')),
        launcher=launcher_from_args(args), jobs=args.jobs, threads=threads,
        cfg_options=args.cfg_options,
        command=shlex.join(['python', 'tools/digits_benchmark.py'] +
                           sys.argv[1:]), device=args.device,
        ema_momentum=args.ema, layout=args.layout,
        pretrain_scales=args.pretrain_scales)
    runs, todo = reuse_finished(job, args)
    runs += job.run(longest_first([(m, s) for m, s in todo
                                   if m not in SEMI]))
    semi = [(m, s) for m, s in todo if m in SEMI]
    for seed in sorted({s for _, s in semi}):
        job.make_pseudo_labels(seed, args.pseudo_thr)
    runs += job.run(semi)
    table = tables(job.write_results(runs, args.methods))
    report(job, runs, args, table)
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
