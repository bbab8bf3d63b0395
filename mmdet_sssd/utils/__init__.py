from .checkpoint import (AtomicLocalBackend, find_resumable_checkpoint,
                         is_complete_checkpoint, load_trusted_local,
                         register_atomic_local_backend,
                         register_trusted_local_loader)
from .export import student_config, student_state_dict
from .mmdet_tools import run_mmdet_tool
from .teacher_config import load_gt_first, load_teacher_config

__all__ = [
    'AtomicLocalBackend', 'find_resumable_checkpoint',
    'is_complete_checkpoint', 'load_gt_first', 'load_teacher_config',
    'load_trusted_local',
    'register_atomic_local_backend', 'register_trusted_local_loader',
    'run_mmdet_tool', 'student_config', 'student_state_dict'
]
