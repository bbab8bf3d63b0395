from .adaptive_distill_loss import (AdaptiveDistillLoss, adaptive_distill_terms,
                                    softmax_adaptive_distill_terms)
from .js_distance_loss import (JSDistanceLoss, js_distance, js_divergence,
                               js_terms)
from .ssim_distill_loss import SSIMDistillLoss, ssim_distance

__all__ = [
    'AdaptiveDistillLoss', 'JSDistanceLoss', 'SSIMDistillLoss',
    'adaptive_distill_terms', 'js_distance', 'js_divergence', 'js_terms',
    'softmax_adaptive_distill_terms', 'ssim_distance'
]
