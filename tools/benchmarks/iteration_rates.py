# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Seconds per iteration of the trainings of rate probes.

    python tools/benchmarks/iteration_rates.py PROBE [PROBE ...] [--skip 2]
                                               [--json OUT.json]

Each PROBE is a work dir of ``tools/digits_benchmark.py`` (its runs
``<arm>_seed<N>``, e.g. as ``tools/benchmarks/
digits_rate_probe.sh`` leaves them), or a JSON file that ``--json``
wrote. Prints, per probe and arm, the mean seconds per iteration and the
iterations per second of all the probe's runs together
(:func:`mmdet_sssd.benchmarking.iteration_rates.rates_table`).
"""
import argparse
import json
import os.path as osp

from mmdet_sssd.benchmarking.iteration_rates import probe_times, rates_table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('probes', nargs='+',
                        help='work dirs of probes, or JSON files of --json')
    parser.add_argument('--skip', type=int, default=2,
                        help='logged intervals of each run left out as '
                        'start-up (default 2)')
    parser.add_argument('--json', default=None,
                        help='also write the logged times of every run here')
    args = parser.parse_args()
    probes = {}
    for path in args.probes:
        if osp.isdir(path):
            probes[osp.basename(path.rstrip('/'))] = probe_times(path)
        elif path.endswith('.json'):
            with open(path) as f:
                probes.update(json.load(f))
        else:
            parser.error(f'{path}: neither a probe\'s work dir nor a JSON '
                         'file of --json')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(probes, f, indent=1)
    print(rates_table(probes, args.skip))


if __name__ == '__main__':
    main()
