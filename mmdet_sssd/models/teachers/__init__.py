# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The teachers a student is distilled from, and the terms that pair each
teacher with its losses: the label teacher (:class:`LabelEncoderTeacher`,
with its box geometry, descriptors, relation and presets), the frozen
pretrained detector (:class:`FrozenDetector`), and
:class:`DistillTerm` and its two kinds, which the distiller loops over."""
from .frozen_detector import FrozenDetector
from .label_encoder_teacher import LabelEncoderTeacher
from .terms import DistillTerm, LabelTeacherTerm, PretrainedTeacherTerm

__all__ = [
    'LabelEncoderTeacher', 'FrozenDetector', 'DistillTerm',
    'LabelTeacherTerm', 'PretrainedTeacherTerm'
]
