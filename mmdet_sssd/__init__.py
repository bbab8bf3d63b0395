"""mmdet_sssd: Smooth and Stepwise Self-Distillation for MMDetection 3.x.

Importing the package registers its components in mmdet's registries
(``mmdet.registry.MODELS`` and ``HOOKS``).
"""
from .engine import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .utils import register_trusted_local_loader
from .version import __version__

register_trusted_local_loader()

__all__ = ['__version__']
