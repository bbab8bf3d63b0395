# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A paired job's figure: each method's val AP per validation (mean over
seeds; its label teacher's beside it) and a distilled run's lambda and LR
over the iterations."""
import statistics
from typing import List, Sequence


def _plot_val_ap(ax, runs: List[dict], methods: Sequence[str]) -> None:
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
            ax.plot(list(epochs), mean, style, marker='o', color=f'C{i}',
                    label=name)
    ax.set(xlabel='validation (each epoch; each 150 iterations for '
           'the semi-supervised runs)', ylabel='val AP (%)',
           title='val AP'
           + (' (mean over seeds)' if len(runs) > len(methods) else ''))
    ax.legend()


def _plot_schedule(ax_coef, run: dict) -> None:
    iters = [p[0] for p in run['schedule']]
    ax_coef.plot(iters, [p[1] for p in run['schedule']], color='C3',
                 label='lambda (distill_coef)')
    ax_coef.set(xlabel='iteration', ylabel='lambda',
                title=f"{run['method']}: lambda and LR")
    ax_lr = ax_coef.twinx()
    ax_lr.plot(iters, [p[2] for p in run['schedule']], color='C0',
               label='LR')
    ax_lr.set_ylabel('LR')
    ax_coef.legend(loc='upper left')
    ax_lr.legend(loc='lower left')


def plot_curves(runs: List[dict], methods: Sequence[str], out: str) -> None:
    """``out`` (a PNG): the val AP curves of ``runs`` (records with their
    ``val_ap``... and ``schedule``) and, for the last method whose name
    holds no "baseline" and whose runs logged a lambda, the lambda and LR
    of its first run."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_ap, ax_coef) = plt.subplots(1, 2, figsize=(11, 4))
    _plot_val_ap(ax_ap, runs, methods)
    distilled = [r for m in methods if 'baseline' not in m
                 for r in runs if r['method'] == m
                 and any(p[1] is not None for p in r['schedule'])]
    if distilled:
        method = distilled[-1]['method']
        _plot_schedule(ax_coef,
                       next(r for r in distilled if r['method'] == method))
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
