# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The parts of :class:`SSSDDistiller`: head runners, teachers, the
feature term, phases and checks."""
from .runners import (DenseHeadRunner, DetectorRunner, TwoStageRunner,
                      build_runner)
from .teachers import LabelTeacher, PretrainedTeacher

__all__ = [
    'DetectorRunner', 'DenseHeadRunner', 'TwoStageRunner', 'build_runner',
    'LabelTeacher', 'PretrainedTeacher'
]
