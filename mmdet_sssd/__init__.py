"""mmdet_sssd: Smooth and Stepwise Self-Distillation for MMDetection 3.x.

Importing the package registers its components in mmdet's registries
(``mmdet.registry.MODELS`` and ``HOOKS``), lets mmengine load its own local
checkpoints on torch >= 2.6 and makes its local file writes atomic (see
:mod:`mmdet_sssd.utils.checkpoint`).
"""
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .utils import (register_atomic_local_backend,
                    register_trusted_local_loader)
from .version import __version__

register_trusted_local_loader()
register_atomic_local_backend()

__all__ = ['__version__']
