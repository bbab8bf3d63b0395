"""mmdet_sssd: Smooth and Stepwise Self-Distillation for MMDetection 3.x.

Importing the package checks that mmengine, mmcv and mmdet are versions it
supports, registers its components in mmdet's registries
(``mmdet.registry.MODELS`` and ``HOOKS``) and makes mmengine's loader of
local checkpoints safe and able to read mmengine's own checkpoints on
torch >= 2.6 (:func:`mmdet_sssd.utils.load_from_local_safely`; see
``docs/safety.md``). Nothing else in the process changes: crash-safe
checkpoint writing and resuming are turned on per config
(``CrashSafeCheckpointHook``).
"""
from .utils.versions import check_versions

check_versions()

from .engine import *  # noqa: F401,F403,E402
from .engine.hooks import CrashSafeCheckpointHook  # noqa: F401,E402
from .evaluation import *  # noqa: F401,F403,E402
from .models import *  # noqa: F401,F403,E402
from .utils.checkpoint import register_safe_local_loader  # noqa: E402
from .version import __version__  # noqa: E402

register_safe_local_loader()

__all__ = ['CrashSafeCheckpointHook', '__version__']
