"""Paired-by-seed differences, their Student-t interval and the tables,
against hand-computed values."""
import json

import pytest

from mmdet_sssd.analysis import (comparison_tables, paired, read_records,
                                 sd_interval, t_interval, t_test_p, verdict)


def test_t_interval_hand_computed():
    # differences 1, 2, 3: mean 2, sd 1, t(0.975, 2 dof) = 4.302653
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    half = 4.302653 / 3 ** 0.5
    assert mean == 2.0
    assert low == pytest.approx(2 - half, abs=1e-5)  # -0.484138
    assert high == pytest.approx(2 + half, abs=1e-5)  # 4.484138
    assert t_interval([1.5]) == (1.5, None, None)


def test_p_value_and_sd_interval_hand_computed():
    # 1, 2, 3: t = 2 / (1 / sqrt 3) = 3.4641 on 2 dof, two-sided p 0.07418
    assert t_test_p([1.0, 2.0, 3.0]) == pytest.approx(0.07418, abs=1e-5)
    assert t_test_p([-1.0, -2.0, -3.0]) == pytest.approx(0.07418, abs=1e-5)
    assert t_test_p([2.0, 2.0]) == 0.0 and t_test_p([0.0, 0.0]) == 1.0
    assert t_test_p([1.0]) is None
    # sd 1 on 2 dof: chi2(0.975, 2) = 7.37776, chi2(0.025, 2) = 0.050636
    sd, low, high = sd_interval([1.0, 2.0, 3.0])
    assert sd == 1.0
    assert low == pytest.approx((2 / 7.37776) ** 0.5, abs=1e-5)  # 0.52066
    assert high == pytest.approx((2 / 0.050636) ** 0.5, abs=1e-4)  # 6.2847
    assert sd_interval([4.0]) == (0.0, None, None)


def test_paired_by_seed_and_in_words():
    records = [dict(method=m, seed=s, AP=ap) for m, s, ap in [
        ('baseline', 0, 30.0), ('baseline', 1, 31.0), ('baseline', 2, 29.0),
        ('sssd', 0, 31.0), ('sssd', 1, 33.0), ('sssd', 2, 32.0),
        ('sssd', 3, 50.0)]]  # seed 3 has no baseline: not paired
    p = paired(records, 'sssd', 'baseline')
    assert p['seeds'] == [0, 1, 2] and p['diffs'] == [1.0, 2.0, 3.0]
    assert 'includes 0' in verdict(p)
    assert p['p'] == pytest.approx(0.07418, abs=1e-5)
    assert 'p = 0.074, half-width 2.48' in verdict(p)  # 4.302653 / sqrt 3
    p = paired(records[:3] + [dict(method='sssd', seed=s, AP=ap)
                              for s, ap in ((0, 32), (1, 33), (2, 31))],
               'sssd', 'baseline')  # 2, 2, 2: sd 0
    assert (p['low'], p['high']) == (2.0, 2.0)
    assert 'excludes 0: sssd is better' in verdict(p)
    assert paired(records, 'sssd', 'lgd') is None
    assert 'on one seed: no interval' in verdict(
        paired(records[:1] + records[3:4], 'sssd', 'baseline'))


def test_bonferroni_interval_of_a_family_hand_computed():
    # differences 1, 2, 3, two comparisons with one baseline: 97.5%
    # interval, t(0.9875, 2 dof) = 6.205347, half-width 3.582659
    records = [dict(method=m, seed=s, AP=ap) for m, s, ap in [
        ('baseline', 0, 30.0), ('baseline', 1, 31.0), ('baseline', 2, 29.0),
        ('sssd', 0, 31.0), ('sssd', 1, 33.0), ('sssd', 2, 32.0),
        ('lgd', 0, 40.0), ('lgd', 1, 41.0), ('lgd', 2, 39.5)]]
    p = paired(records, 'sssd', 'baseline')
    assert 'Bonferroni' not in verdict(p)
    assert ('Bonferroni over the 2 comparisons with baseline: 97.5% '
            'interval [-1.58, +5.58]') in verdict(p, 2)
    # lgd: +10, +10, +10.5 -> excludes 0 at either level
    assert verdict(paired(records, 'lgd', 'baseline'), 2).endswith(
        '(excludes 0)')
    table = comparison_tables(records, [('sssd', 'baseline'),
                                        ('lgd', 'baseline'),
                                        ('sssd', 'lgd')])
    # two comparisons share the baseline, one has lgd as its reference
    assert table.count('Bonferroni over the 2 comparisons') == 2
    assert 'sssd - lgd' in table and 'comparisons with lgd' not in table


def test_comparison_tables():
    # the teacher's AP beside its student's, the pairs of AP, then the
    # same runs' pairs on the val split
    runs = [dict(method=m, seed=s, AP=ap, val_AP=val, teacher_AP=t,
                 AP50=0, AP75=0, APs=0, APm=0, train_s=1)
            for m, s, ap, val, t in [
                ('baseline', 0, 30.0, 33.0, None),
                ('baseline', 1, 31.0, 33.0, None),
                ('published', 0, 29.0, 33.5, 7.0),
                ('published', 1, 30.0, 34.5, 9.0),
                ('lgd', 0, 30.0, 33.0, 8.0), ('lgd', 1, 30.0, 33.0, 8.0)]]
    table = comparison_tables(runs, [('published', 'baseline'),
                                     ('published', 'lgd')])
    assert '| published | 2 | 29.5 +- 0.7 |' in table
    assert '| 8.0 | 1 |' in table  # the teacher's mean AP, the time
    assert '| baseline | 2 | 30.5 +- 0.7 | 0.0 +- 0.0 |' in table
    # the spread of AP with the sd's chi-square interval (1 dof: 0.4462,
    # 31.9102 times the sd 0.7071)
    assert '| baseline | 2 | 0.71 | [0.32, 22.56] |' in table
    assert '| published - lgd | -1.0 | +0.0 | -0.50 |' in table
    test, val = table.split('| val AP difference (val split) |')
    assert '| published - baseline | -1.0 | -1.0 | -1.00 |' in test
    assert '| published - baseline | +0.5 | +1.5 | +1.00 |' in val
    assert 'published - baseline: -1.00 AP' in val  # verdicts: AP
    # without val_AP on every record: no val table
    del runs[0]['val_AP']
    assert 'val AP difference' not in comparison_tables(
        runs, [('published', 'baseline')])


def test_summary_of_a_metric_without_objects_of_that_size():
    # COCO's -1 (recorded as None): no small object in the test set
    records = [dict(method='a', seed=s, AP=30.0 + s, AP50=50.0, AP75=0.0,
                    APs=None, APm=1.0) for s in (0, 1)]
    from mmdet_sssd.analysis import summary_table
    assert summary_table(records)[2].startswith(
        '| a | 2 | 30.5 +- 0.7 | 50.0 +- 0.0 | 0.0 +- 0.0 | n/a | '
        '1.0 +- 0.0 |')
    assert 'APl' not in summary_table(records)[0]
    # large objects in the test set (the COCO-layout scenes): APl too
    records[0]['APl'], records[1]['APl'] = 9.0, 11.0
    table = summary_table(records)
    assert table[0].startswith('| method | seeds | AP | AP50 | AP75 | APs '
                               '| APm | APl | teacher AP |')
    assert '| 1.0 +- 0.0 | 10.0 +- 1.4 |' in table[2]


def test_summary_with_class_agnostic_scores():
    from mmdet_sssd.analysis import summary_table
    records = [dict(method='a', seed=0, AP=30.0, AP50=50.0, AP75=0.0,
                    APs=1.0, APm=1.0, train_s=10.0)]
    # none recorded (a plain detector's runs): no such columns
    assert 'class-agnostic' not in summary_table(records)[0]
    records += [dict(method='sssd', seed=s, AP=31.0, AP50=50.0, AP75=0.0,
                     APs=1.0, APm=1.0, teacher_AP=40.0 + s,
                     agnostic_AP=35.0 + s, teacher_agnostic_AP=38.0,
                     train_s=20.0) for s in (0, 1)]
    header, rule, plain, sssd = summary_table(records)
    assert header.endswith('| teacher AP | class-agnostic AP | teacher '
                           'class-agnostic AP | train time (s) |')
    assert rule.count('---') == header.count('|') - 1
    # the plain run: empty cells; the distilled: means over its seeds
    assert plain.endswith('|  |  |  | 10 |')
    assert sssd.endswith('| 40.5 | 35.50 | 38.00 | 20 |')


def _records(experiment, seeds, gain):
    # sssd gains +gain on even seeds and +2 gain on odd ones
    return [dict(experiment=experiment, method=method, seed=seed,
                 AP=50.0 + seed + (gain * (seed % 2 + 1)
                                   if method == 'sssd' else 0))
            for method in ('baseline', 'sssd') for seed in seeds]


def test_read_records_of_several_files_pooled_and_by_seed(tmp_path):
    first, second = tmp_path / 'test.json', tmp_path / 'replication.json'
    first.write_text(json.dumps(_records('test', [0, 1, 2], 1.0)))
    second.write_text(json.dumps(_records('replication', [3, 4, 5], 1.0)))
    both = read_records([str(first), str(second)])
    assert [r['experiment'] for r in both] == ['test'] * 6 + [
        'replication'] * 6
    pooled = read_records([str(first), str(second)], pool=True)
    assert {r['experiment'] for r in pooled} == {'test + replication'}
    # by hand: +1, +2, +1, +2, +1, +2: mean 1.5
    diffs = paired(pooled, 'sssd', 'baseline')['diffs']
    assert sorted(diffs) == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    chosen = read_records([str(first), str(second)], seeds=[1, 3, 5],
                          pool=True)
    assert sorted({r['seed'] for r in chosen}) == [1, 3, 5]
    assert paired(chosen, 'sssd', 'baseline')['mean'] == 2.0
    with pytest.raises(ValueError, match='baseline seed 0 twice '
                       r'\(experiments test and test\)'):
        read_records([str(first), str(first)], pool=True)
    # without pooling, a file read twice is two experiments' records
    assert len(read_records([str(first), str(first)])) == 12
    # by epochs: a longer run of seed 0 kept out of the pool
    longer = tmp_path / 'longer.json'
    longer.write_text(json.dumps(
        [dict(r, experiment='longer', epochs=36)
         for r in _records('longer', [0], 5.0)]))
    first.write_text(json.dumps(
        [dict(r, epochs=18) for r in _records('test', [0, 1, 2], 1.0)]))
    with pytest.raises(ValueError, match='twice'):
        read_records([str(first), str(longer)], pool=True)
    kept = read_records([str(first), str(longer)], pool=True, epochs=18)
    assert paired(kept, 'sssd', 'baseline')['diffs'] == [1.0, 2.0, 1.0]
    assert read_records([str(longer)], epochs=18) == []
    # a curves record's epochs are its val AP's length
    curves = tmp_path / 'curves.json'
    curves.write_text(json.dumps([
        dict(experiment='c', method='baseline', seed=0, val_ap=[1.0] * n)
        for n in (18, 36)]))
    assert [len(r['val_ap']) for r in read_records([str(curves)],
                                                    epochs=36)] == [36]
