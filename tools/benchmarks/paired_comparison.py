# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A paired multi-seed comparison of any configs: "SSSD minus baseline,
paired by seed, with its 95% interval" from one command.

    python tools/benchmarks/paired_comparison.py NAME=CONFIG NAME=CONFIG
        [...] [--reference NAME] [--seeds 0,1,2] [--work-dir DIR]
        [--launcher none|pytorch|slurm] [--gpus N] [--gpus-per-node 8]
        [--partition P] [--jobs 1] [--skip-existing]
        [--cfg-options key=value ...] [--test-cfg-options key=value ...]
    python tools/benchmarks/paired_comparison.py --table results.json
        [more.json ...] [--pool] [--seeds 0,1] [--reference NAME]

Trains every arm (``NAME=CONFIG``: a config file; for a stock mmdet
model, a file with its ``_base_ = 'mmdet::...'``) on every seed, with the
same seed and data order in every arm of a seed (``randomness.seed`` and
``train_dataloader.sampler.seed``: the same initial weights where they
are drawn, the same batches), scores each last checkpoint on the config's
test set (tools/test.py; tools/analysis_tools/eval_teacher.py for a
config with a label teacher, which also scores the teacher), and prints
the tables of tools/digits_benchmark.py: the box AP of each arm (mean +-
std over seeds) and each arm minus the reference (default: the first
arm), per seed, mean and 95% Student-t interval, in numbers and words.

``--launcher pytorch --gpus 8`` runs each training (and tools/test.py) on
8 GPUs with torchrun, as tools/dist_train.sh does (``NNODES``,
``NODE_RANK``, ``MASTER_ADDR`` of the environment for several nodes);
``--launcher slurm --gpus 16 --partition P`` with ``srun`` on 2 nodes of 8
GPUs, as mmdet's slurm_train.sh does. The runs start in this directory
(the configs' relative ``data_root`` is read from here); each one's work
dir is ``<work-dir>/<NAME>_seed<SEED>``, the records go to
``results.json`` (the schema of docs/benchmarks/digits/README.md less its
digits fields), the curves (val AP, train losses per epoch) to
``curves.json``, the tables to ``results.md``, the figure to
``curves.png``. The engine: mmdet_sssd.benchmarking.PairedJob.

``--table`` prints the tables of records files without training: each
experiment on its own, or with ``--pool`` all of them as one (a test and
its replication on other seeds: the pairs of both), ``--seeds`` keeping
only those seeds' records.
"""
import argparse
import os
import os.path as osp
import shlex
import sys

from mmdet_sssd.analysis.curve_tables import record_tables
from mmdet_sssd.analysis.paired_comparison import (comparison_tables,
                                                   read_records)
from mmdet_sssd.benchmarking import PairedJob
from mmdet_sssd.benchmarking.launch import (add_launcher_arguments,
                                            launcher_from_args)
from mmdet_sssd.benchmarking.plots import plot_curves
from mmdet_sssd.benchmarking.pool import phase


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('arms', nargs='*', metavar='NAME=CONFIG',
                        help='two or more arms')
    parser.add_argument('--reference', default=None,
                        help='the arm the others are compared with '
                        '(default: the first)')
    parser.add_argument('--seeds', default=None,
                        help='comma-separated seeds (default 0,1,2; with '
                        '--table: only these seeds\' records, default all)')
    parser.add_argument('--work-dir', default='work_dirs/paired_comparison')
    parser.add_argument('--experiment', default=None,
                        help='label stored in each record (default: the '
                        'work dir name)')
    add_launcher_arguments(parser)
    parser.add_argument('--jobs', type=int, default=1,
                        help='runs at once (several: logs in '
                        '<run>/train.log)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch threads per run (default: cores / '
                        'jobs)')
    parser.add_argument('--skip-existing', action='store_true',
                        help='reuse finished runs of the work dir (a run dir '
                        'with its run.json)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value options of every training')
    parser.add_argument('--test-cfg-options', nargs='+', default=[],
                        help='key=value options of every scoring (e.g. '
                        'another test set)')
    parser.add_argument('--no-figures', action='store_true',
                        help='skip curves.png')
    parser.add_argument('--ema', type=float, default=None,
                        metavar='MOMENTUM',
                        help="train every arm with mmengine's EMAHook at "
                        'this momentum; records the averaged and the raw '
                        'weights of each run (AP, raw_AP)')
    parser.add_argument('--table', nargs='+', default=None,
                        metavar='RESULTS_JSON',
                        help='only print the tables of results.json files, '
                        'or of curves.json files (val AP and train losses '
                        'per epoch, each arm\'s mean over its seeds); each '
                        'experiment on its own unless --pool')
    parser.add_argument('--pool', action='store_true',
                        help='with --table: the records of every '
                        'experiment as one (e.g. a test and its '
                        'replication on other seeds); a method and seed '
                        'twice is an error')
    args = parser.parse_args(argv)
    args.configs = {}
    for arm in args.arms:
        name, sep, path = arm.partition('=')
        if not sep or not osp.isfile(path):
            parser.error(f'{arm}: expected NAME=CONFIG with a config file')
        args.configs[name] = osp.abspath(path)
    if not args.table and len(args.configs) < 2:
        parser.error('give two or more arms NAME=CONFIG')
    if args.reference is not None and args.configs and \
            args.reference not in args.configs:
        parser.error(f'--reference {args.reference}: not one of '
                     f'{list(args.configs)}')
    if args.pool and not args.table:
        parser.error('--pool pools the records of --table files')
    seeds = args.seeds or ('' if args.table else '0,1,2')
    args.seeds = [int(s) for s in seeds.split(',') if s]
    return args


def against(reference):
    """The comparisons of an experiment's arms: each arm minus
    ``reference`` (None: the first arm)."""
    def comparisons(arms):
        ref = reference or arms[0]
        return [(arm, ref) for arm in arms if arm != ref]
    return comparisons


def main(argv=None):
    args = parse_args(argv)
    if args.table:
        try:
            records = read_records(args.table, args.seeds, args.pool)
        except ValueError as e:
            raise SystemExit(f'--pool: {e}')
        print(record_tables(records, against(args.reference)))
        return
    import torch
    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    job = PairedJob(
        args.configs, work_dir,
        experiment=args.experiment or osp.basename(work_dir.rstrip('/')),
        launcher=launcher_from_args(args),
        jobs=args.jobs,
        threads=args.threads or max(1, (os.cpu_count() or 1) // args.jobs),
        cfg_options=args.cfg_options, test_options=args.test_cfg_options,
        cwd=os.getcwd(), device='cuda' if torch.cuda.is_available() else
        'cpu', command=shlex.join(['python', sys.argv[0]] + sys.argv[1:]),
        ema_momentum=args.ema)
    runs, todo = [], []
    for arm in args.configs:
        for seed in args.seeds:
            run = job.reuse(arm, seed) if args.skip_existing else None
            if run is None:
                todo.append((arm, seed))
            else:
                runs.append(run)
    # seed by seed: an interrupted job leaves whole pairs
    runs += job.run(sorted(todo, key=lambda t: args.seeds.index(t[1])))
    records = job.write_results(runs, list(args.configs))
    table = comparison_tables(records,
                              against(args.reference)(list(args.configs)))
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(f'Paired comparison, seeds {args.seeds}\n\n{table}\n')
    if not args.no_figures and runs:
        plot_curves(runs, list(args.configs),
                    osp.join(work_dir, 'curves.png'))
    phase(f'done: {work_dir}/results.md')
    print('\n' + table, flush=True)


if __name__ == '__main__':
    main()
