from .adaptive_distill_coef_hook import AdaptiveDistillCoefHook
from .crash_safe_checkpoint_hook import CrashSafeCheckpointHook
from .epoch_seed_hook import EpochSeedHook
from .train_data_check_hook import TrainDataCheckHook

__all__ = [
    'AdaptiveDistillCoefHook', 'CrashSafeCheckpointHook', 'EpochSeedHook',
    'TrainDataCheckHook'
]
