from .adaptive_distill_coef_hook import AdaptiveDistillCoefHook

__all__ = ['AdaptiveDistillCoefHook']
