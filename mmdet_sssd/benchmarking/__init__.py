# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The benchmark engine: paired multi-seed comparisons of configs
(:class:`PairedJob`) through mmengine's launchers, what is read back from
each run, the figures, the step timing, and the digits benchmark as one
preset. The statistics and tables: :mod:`mmdet_sssd.analysis`."""
from .iteration_rates import probe_times, rates_table
from .launch import LAUNCHERS, Launcher, test_command, tool, train_command
from .paired_job import PairedJob, seed_options
from .plots import plot_curves
from .pseudo_quality import box_iou, count_matches, pseudo_quality
from .run_records import (METRICS, agnostic_test_options, code_version,
                          curves, machine, read_scalars, read_test_metrics,
                          scores_teacher, test_record)
from .step_cost import Floor, step_cost

__all__ = [
    'probe_times', 'rates_table',
    'LAUNCHERS', 'Launcher', 'test_command', 'tool', 'train_command',
    'PairedJob', 'seed_options', 'plot_curves', 'box_iou', 'count_matches',
    'pseudo_quality', 'METRICS', 'agnostic_test_options', 'code_version',
    'curves', 'machine', 'read_scalars', 'read_test_metrics',
    'scores_teacher', 'test_record',
    'Floor', 'step_cost'
]
