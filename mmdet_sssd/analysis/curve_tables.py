# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Markdown tables of run curves: each method's mean over its seeds, per
epoch, of the val AP (the student's and its label teacher's) and of the
train losses.

A curve record is a dict with ``experiment``, ``method``, ``seed``,
``val_ap`` (one value per validation), optionally ``teacher_val_ap`` and
``train_loss`` (``{name: [mean of epoch 1, ...]}``), as the benchmark's
``curves.json`` holds them (:func:`mmdet_sssd.benchmarking.curves`).
"""
import statistics
from typing import Callable, List, Optional, Sequence, Tuple

from .paired_comparison import by_experiment, experiment_tables


def mean_curve(curves: Sequence[Optional[list]]) -> List[Optional[float]]:
    """Pointwise mean of the curves present (None where none has a value
    at that position)."""
    curves = [c for c in curves if c]
    length = max((len(c) for c in curves), default=0)
    means = []
    for i in range(length):
        values = [c[i] for c in curves if i < len(c) and c[i] is not None]
        means.append(statistics.mean(values) if values else None)
    return means


def _row(label: str, values: List[Optional[float]], digits: int) -> str:
    return f'| {label} | ' + ' | '.join(
        '' if v is None else f'{v:.{digits}f}' for v in values) + ' |'


def _header(title: str, length: int) -> List[str]:
    return [f'| {title} | ' + ' | '.join(str(e + 1) for e in range(length))
            + ' |', '|' + '---|' * (length + 1)]


def loss_rows(method: str, runs: List[dict]) -> List[Tuple]:
    """(label, mean curve) of each logged train loss of ``method``'s runs,
    and of ``loss_distill`` per unit of the distillation coefficient
    (how far the student is from its teacher, whatever lambda is)."""
    losses = [r['train_loss'] for r in runs if r.get('train_loss')]
    names = dict.fromkeys(k for loss in losses for k in loss)
    rows = [(f'{method}: {name}', mean_curve([loss.get(name)
                                               for loss in losses]))
            for name in names if name != 'distill_coef']
    per_unit = [[d / c if d is not None and c else None
                 for d, c in zip(loss['loss_distill'], loss['distill_coef'])]
                for loss in losses
                if 'loss_distill' in loss and 'distill_coef' in loss]
    if per_unit:
        rows.append((f'{method}: loss_distill / distill_coef',
                     mean_curve(per_unit)))
    return rows


def curve_tables(records: List[dict]) -> str:
    """Per experiment of ``records``, under a ``### experiment`` heading:
    the mean val AP after each epoch of each method (and of its label
    teacher where scored), then the mean train losses of each epoch."""
    return by_experiment(records, _experiment_curves)


def _experiment_curves(group: List[dict], methods: List[str]) -> str:
    ap_rows, loss_lines = [], []
    for method in methods:
        runs = [r for r in group if r['method'] == method]
        ap_rows.append((f'{method} ({len(runs)} seeds)',
                        mean_curve([r.get('val_ap') for r in runs])))
        teacher = mean_curve([r.get('teacher_val_ap') for r in runs])
        if teacher:
            ap_rows.append(('its teacher', teacher))
        loss_lines += loss_rows(method, runs)
    length = max(len(v) for _, v in ap_rows)
    lines = _header('mean val AP after epoch', length) + [
        _row(label, values, 1) for label, values in ap_rows]
    if loss_lines:
        length = max(len(v) for _, v in loss_lines)
        lines += [''] + _header('mean train loss in epoch', length) + [
            _row(label, values, 3) for label, values in loss_lines]
    return '\n'.join(lines)


def record_tables(records: List[dict],
                  comparisons_of: Callable[[List[str]],
                                           List[Tuple[str, str]]]) -> str:
    """The tables of a job's records file: :func:`curve_tables` of a
    ``curves.json`` (no ``AP`` in its records), else
    :func:`~.paired_comparison.experiment_tables` of a ``results.json``."""
    if records and 'AP' not in records[0] and 'val_ap' in records[0]:
        return curve_tables(records)
    return experiment_tables(records, comparisons_of)
