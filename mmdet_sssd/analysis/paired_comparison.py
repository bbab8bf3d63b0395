# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Methods compared paired by seed: differences, Student-t intervals and
markdown tables of run records.

A record is a dict with at least ``method``, ``seed`` and the metrics
compared (``AP``...); two runs of one seed share the initial student and
the data order, so their difference cancels what the seed alone decides.
``tools/digits_benchmark.py`` and ``tools/benchmarks/paired_comparison.py``
write such records (:mod:`mmdet_sssd.benchmarking`); any other job can.
"""
import json
import math
import statistics
from typing import Callable, Dict, List, Optional, Sequence, Tuple

SUMMARY_METRICS = ('AP', 'AP50', 'AP75', 'APs', 'APm')
#: column headers of the class-agnostic scores in :func:`summary_table`
AGNOSTIC_HEADERS = {'agnostic_AP': 'class-agnostic AP',
                    'teacher_agnostic_AP': 'teacher class-agnostic AP'}


def t_interval(diffs: Sequence[float], confidence: float = 0.95
               ) -> Tuple[float, Optional[float], Optional[float]]:
    """Mean of paired differences and its two-sided Student-t interval.

    Returns (mean, low, high); low and high are None for fewer than two
    differences."""
    n = len(diffs)
    mean = sum(diffs) / n
    if n < 2:
        return mean, None, None
    from scipy import stats
    sd = statistics.stdev(diffs)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def t_test_p(diffs: Sequence[float]) -> Optional[float]:
    """Two-sided p-value of a one-sample Student-t test of mean 0 (None
    for fewer than two differences; 0 or 1 when they are all equal)."""
    n = len(diffs)
    if n < 2:
        return None
    mean, sd = sum(diffs) / n, statistics.stdev(diffs)
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    from scipy import stats
    return float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))


def sd_interval(values: Sequence[float], confidence: float = 0.95
                ) -> Tuple[float, Optional[float], Optional[float]]:
    """Sample standard deviation and its chi-square interval (normal
    values): (sd, low, high), low and high None for fewer than two."""
    n = len(values)
    if n < 2:
        return 0.0, None, None
    from scipy import stats
    sd = statistics.stdev(values)
    tail = (1 - confidence) / 2
    return (sd, sd * math.sqrt((n - 1) / stats.chi2.ppf(1 - tail, n - 1)),
            sd * math.sqrt((n - 1) / stats.chi2.ppf(tail, n - 1)))


def paired(records: List[dict], method: str, reference: str,
           metric: str = 'AP') -> Optional[dict]:
    """The differences ``method - reference`` of ``metric``, paired by seed
    (only seeds both have); a dict with seeds, diffs, mean, low, high and
    p (:func:`t_test_p`), or None when no seed has both."""
    ref = {r['seed']: r[metric] for r in records if r['method'] == reference}
    pairs = sorted((r['seed'], r[metric] - ref[r['seed']]) for r in records
                   if r['method'] == method and r['seed'] in ref)
    if not pairs:
        return None
    seeds, diffs = zip(*pairs)
    mean, low, high = t_interval(list(diffs))
    return dict(method=method, reference=reference, metric=metric,
                seeds=list(seeds), diffs=list(diffs), mean=mean, low=low,
                high=high, p=t_test_p(list(diffs)))


def verdict(p: dict, family: int = 1) -> str:
    """A :func:`paired` result in words. With ``family`` > 1 comparisons
    sharing its reference (several methods against one baseline), the
    Bonferroni interval (confidence 1 - 0.05 / family) is added: the one
    that keeps the chance of any false claim in the family at 5%."""
    n = len(p['seeds'])
    if p['low'] is None:
        return (f"{p['method']} - {p['reference']}: {p['mean']:+.1f} "
                f"{p['metric']} on one seed: no interval (use 2+ seeds)")
    excl = p['low'] > 0 or p['high'] < 0
    word = ('excludes 0: ' + (f"{p['method']} is better" if p['low'] > 0
                              else f"{p['method']} is worse")
            if excl else 'includes 0: no difference shown')
    text = (f"{p['method']} - {p['reference']}: {p['mean']:+.2f} "
            f"{p['metric']}, 95% interval [{p['low']:+.2f}, "
            f"{p['high']:+.2f}] over {n} seeds ({word}; p = "
            f"{p['p']:.3f}, half-width {(p['high'] - p['low']) / 2:.2f})")
    if family > 1:
        level = 1 - 0.05 / family
        _, low, high = t_interval(p['diffs'], level)
        text += (f"; Bonferroni over the {family} comparisons with "
                 f"{p['reference']}: {100 * level:g}% interval "
                 f"[{low:+.2f}, {high:+.2f}]"
                 f"{' (excludes 0)' if low > 0 or high < 0 else ''}")
    return text


def _signed(v: Optional[float]) -> str:
    return 'n/a' if v is None else f'{v:+.1f}'


def summary_table(records: List[dict],
                  metrics: Optional[Sequence[str]] = None) -> List[str]:
    """Markdown lines: per method, mean +- std over its seeds of each
    metric (over the seeds that have it), the label teacher's mean AP
    (``teacher_AP``, where recorded), where any record has them the
    class-agnostic AP of the student and of its teacher (``agnostic_AP``,
    ``teacher_agnostic_AP``: are the boxes found, whatever their class?),
    and the mean training time (``train_s``). ``metrics`` defaults to
    :data:`SUMMARY_METRICS`, and ``APl`` where a record has it (a test
    set with large objects)."""
    if metrics is None:
        metrics = SUMMARY_METRICS + tuple(
            ['APl'] if any(r.get('APl') is not None for r in records)
            else [])
    agnostic = [name for name in ('agnostic_AP', 'teacher_agnostic_AP')
                if any(r.get(name) is not None for r in records)]
    lines = ['| method | seeds | ' + ' | '.join(metrics) + ' | teacher AP |' +
             ''.join(f' {AGNOSTIC_HEADERS[n]} |' for n in agnostic) +
             ' train time (s) |',
             '|' + '---|' * (len(metrics) + len(agnostic) + 4)]
    for method in dict.fromkeys(r['method'] for r in records):
        runs = [r for r in records if r['method'] == method]
        cells = []
        for name in metrics:
            # None: no object of that size in the test set (COCO's -1)
            values = [r[name] for r in runs if r.get(name) is not None]
            if not values:
                cells.append('n/a')
                continue
            m = statistics.mean(values)
            s = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f'{m:.1f} +- {s:.1f}' if len(runs) > 1 else
                         f'{m:.1f}')
        teacher = [r['teacher_AP'] for r in runs
                   if r.get('teacher_AP') is not None]
        cells.append(f'{statistics.mean(teacher):.1f}' if teacher else '')
        for name in agnostic:
            values = [r[name] for r in runs if r.get(name) is not None]
            cells.append(f'{statistics.mean(values):.2f}' if values else '')
        times = [r['train_s'] for r in runs if r.get('train_s')]
        cells.append(f'{statistics.mean(times):.0f}' if times else 'n/a')
        lines.append(f'| {method} | {len(runs)} | ' + ' | '.join(cells) +
                     ' |')
    return lines


def spread_table(records: List[dict], metric: str = 'AP') -> List[str]:
    """Markdown lines: per method with two or more seeds, the standard
    deviation of ``metric`` over its seeds and the sd's 95% chi-square
    interval (:func:`sd_interval`)."""
    lines = [f'| spread of {metric} over seeds | seeds | sd | '
             '95% interval of the sd |', '|---|---|---|---|']
    for method in dict.fromkeys(r['method'] for r in records):
        values = [r[metric] for r in records
                  if r['method'] == method and r.get(metric) is not None]
        sd, low, high = sd_interval(values)
        if low is not None:
            lines.append(f'| {method} | {len(values)} | {sd:.2f} | '
                         f'[{low:.2f}, {high:.2f}] |')
    return lines if len(lines) > 2 else []


def paired_table(pairs: List[dict], title: str) -> List[str]:
    """Markdown lines: each :func:`paired` result's difference per seed,
    its mean and 95% interval."""
    seeds = sorted({s for p in pairs for s in p['seeds']})
    lines = [f'| {title} | ' + ' | '.join(f'seed {s}' for s in seeds) +
             ' | mean | 95% interval |', '|' + '---|' * (len(seeds) + 3)]
    for p in pairs:
        by_seed = dict(zip(p['seeds'], p['diffs']))
        ci = ('n/a' if p['low'] is None else
              f"[{p['low']:+.2f}, {p['high']:+.2f}]")
        lines.append(f"| {p['method']} - {p['reference']} | " +
                     ' | '.join(_signed(by_seed.get(s)) for s in seeds) +
                     f" | {p['mean']:+.2f} | {ci} |")
    return lines


def comparison_tables(records: List[dict],
                      comparisons: List[Tuple[str, str]]) -> str:
    """The summary, the spread of ``AP`` over seeds (:func:`spread_table`),
    the paired differences of ``AP`` for each (method, reference) of
    ``comparisons``, and where every record has a ``val_AP`` the same
    pairs on it (the same runs judged on the val split), then the ``AP``
    verdicts in words (with Bonferroni intervals where several methods
    share a reference)."""
    lines = summary_table(records)
    spread = spread_table(records)
    if spread:
        lines += [''] + spread
    metrics: Dict[str, str] = {'AP': 'AP difference, paired by seed'}
    if all('val_AP' in r for r in records):
        metrics['val_AP'] = 'val AP difference (val split)'
    verdicts = []
    for metric, title in metrics.items():
        pairs = [paired(records, m, ref, metric) for m, ref in comparisons]
        pairs = [p for p in pairs if p]
        if not pairs:
            continue
        lines += [''] + paired_table(pairs, title)
        if metric == 'AP':
            family = [p['reference'] for p in pairs]
            verdicts = [verdict(p, family.count(p['reference']))
                        for p in pairs]
    if verdicts:
        lines += [''] + verdicts
    return '\n'.join(lines)


def experiment_tables(records: List[dict],
                      comparisons_of: Callable[[List[str]],
                                               List[Tuple[str, str]]]
                      ) -> str:
    """:func:`comparison_tables` of each ``experiment`` of ``records``
    (several jobs' records in one file), under a ``### experiment``
    heading; ``comparisons_of`` gives the (method, reference) pairs of an
    experiment's methods."""
    return by_experiment(records, lambda group, methods: comparison_tables(
        group, comparisons_of(methods)))


def by_experiment(records: List[dict],
                  tables: Callable[[List[dict], List[str]], str]) -> str:
    """``tables(group, methods)`` of each ``experiment`` of ``records``
    (its records and its methods in their order), each under a
    ``### experiment`` heading."""
    parts = []
    for experiment in dict.fromkeys(r['experiment'] for r in records):
        group = [r for r in records if r['experiment'] == experiment]
        methods = list(dict.fromkeys(r['method'] for r in group))
        parts.append(f'### {experiment}\n\n' + tables(group, methods) +
                     '\n')
    return '\n'.join(parts)


def read_records(paths: Sequence[str], seeds: Sequence[int] = (),
                 pool: bool = False,
                 epochs: Optional[int] = None) -> List[dict]:
    """The records of the records files ``paths`` (``results.json`` or
    ``curves.json`` lists), only those of ``seeds`` if any given, and of
    runs of ``epochs`` epochs if given (a curves record's epochs: its
    val AP per epoch). With
    ``pool`` they form one experiment, named ``'a + b'`` after theirs (a
    test and its replication on other seeds: the pairs of both).

    Raises:
        ValueError: When pooling, a method and seed found twice (two
            experiments ran it: pool records of different seeds, or keep
            some with ``seeds``).
    """
    records = []
    for path in paths:
        with open(path) as f:
            records += json.load(f)
    if seeds:
        records = [r for r in records if r['seed'] in seeds]
    if epochs is not None:
        records = [r for r in records if r.get(
            'epochs', len(r.get('val_ap', ()))) == epochs]
    if not pool:
        return records
    seen: Dict[Tuple[str, int], str] = {}
    for r in records:
        key = (r['method'], r['seed'])
        if key in seen:
            raise ValueError(
                f'{key[0]} seed {key[1]} twice (experiments {seen[key]} '
                f'and {r["experiment"]}); pool records of different '
                'seeds, or keep some by seed')
        seen[key] = r['experiment']
    name = ' + '.join(dict.fromkeys(seen.values()))
    return [dict(r, experiment=name) for r in records]
