from .checkpoint import load_trusted_local, register_trusted_local_loader
from .export import student_config, student_state_dict
from .mmdet_tools import run_mmdet_tool

__all__ = [
    'load_trusted_local', 'register_trusted_local_loader', 'run_mmdet_tool',
    'student_config', 'student_state_dict'
]
