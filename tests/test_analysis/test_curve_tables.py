# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Curve tables against a hand-computed case."""
from mmdet_sssd.analysis import curve_tables, mean_curve


def test_mean_curve_skips_missing_values():
    assert mean_curve([[1.0, 2.0], [3.0, None], None]) == [2.0, 2.0]
    assert mean_curve([None, []]) == []


def test_curve_tables_by_hand():
    records = [
        dict(experiment='e', method='baseline', seed=1, val_ap=[10.0, 20.0],
             teacher_val_ap=None,
             train_loss=dict(loss=[1.0, 0.5], loss_cls=[0.6, 0.3])),
        dict(experiment='e', method='baseline', seed=2, val_ap=[20.0, 30.0],
             teacher_val_ap=None,
             train_loss=dict(loss=[3.0, 1.5], loss_cls=[0.8, 0.5])),
        dict(experiment='e', method='sssd', seed=1, val_ap=[12.0, 26.0],
             teacher_val_ap=[40.0, 50.0],
             train_loss=dict(loss_distill=[4.0, 6.0],
                             distill_coef=[10.0, 20.0])),
        dict(experiment='e', method='sssd', seed=2, val_ap=[14.0, 28.0],
             teacher_val_ap=[60.0, 70.0],
             train_loss=dict(loss_distill=[2.0, 2.0],
                             distill_coef=[10.0, 20.0])),
    ]
    text = curve_tables(records)
    assert text.startswith('### e\n')
    assert '| mean val AP after epoch | 1 | 2 |' in text
    assert '| baseline (2 seeds) | 15.0 | 25.0 |' in text
    assert '| sssd (2 seeds) | 13.0 | 27.0 |' in text
    assert '| its teacher | 50.0 | 60.0 |' in text
    assert '| baseline: loss | 2.000 | 1.000 |' in text
    assert '| baseline: loss_cls | 0.700 | 0.400 |' in text
    # (4/10 + 2/10) / 2 and (6/20 + 2/20) / 2
    assert '| sssd: loss_distill / distill_coef | 0.300 | 0.200 |' in text
    # the coefficient itself is not a loss row
    assert 'sssd: distill_coef' not in text
