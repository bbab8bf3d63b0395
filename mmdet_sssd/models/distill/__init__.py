# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The parts of :class:`SSSDDistiller` that are not teachers: head
runners, the feature term, phases and checks."""
from .runners import (DenseHeadRunner, DetectorRunner, TwoStageRunner,
                      build_runner)

__all__ = [
    'DetectorRunner', 'DenseHeadRunner', 'TwoStageRunner', 'build_runner'
]
