from .checkpoint import (TRUSTED_CHECKPOINTS_ENV, AtomicLocalBackend,
                         UntrustedCheckpointError, find_resumable_checkpoint,
                         is_complete_checkpoint, load_from_local_safely,
                         mmengine_safe_globals, register_atomic_backend,
                         register_safe_local_loader)
from .export import student_config, student_state_dict
from .mmdet_tools import package_root, run_mmdet_tool, tools_dir, tools_env
from .teacher_config import load_gt_first, load_teacher_config
from .tool_loading import load_config, load_model, model_tool_parser
from .versions import check_versions

__all__ = [
    'AtomicLocalBackend', 'TRUSTED_CHECKPOINTS_ENV',
    'UntrustedCheckpointError', 'check_versions',
    'find_resumable_checkpoint', 'is_complete_checkpoint', 'load_config',
    'load_gt_first', 'load_model', 'model_tool_parser',
    'load_from_local_safely', 'load_teacher_config', 'mmengine_safe_globals',
    'package_root', 'register_atomic_backend', 'register_safe_local_loader',
    'run_mmdet_tool', 'student_config', 'student_state_dict', 'tools_dir',
    'tools_env'
]
