from .checkpoint import (TRUSTED_CHECKPOINTS_ENV, AtomicLocalBackend,
                         UntrustedCheckpointError, find_resumable_checkpoint,
                         is_complete_checkpoint, load_from_local_safely,
                         mmengine_safe_globals, register_atomic_backend,
                         register_safe_local_loader)
from .export import student_config, student_state_dict
from .mmdet_tools import run_mmdet_tool
from .teacher_config import load_gt_first, load_teacher_config
from .versions import check_versions

__all__ = [
    'AtomicLocalBackend', 'TRUSTED_CHECKPOINTS_ENV',
    'UntrustedCheckpointError', 'check_versions',
    'find_resumable_checkpoint', 'is_complete_checkpoint', 'load_gt_first',
    'load_from_local_safely', 'load_teacher_config', 'mmengine_safe_globals',
    'register_atomic_backend', 'register_safe_local_loader',
    'run_mmdet_tool', 'student_config', 'student_state_dict'
]
