from .js_distance_loss import JSDistanceLoss, js_distance, js_terms

__all__ = ['JSDistanceLoss', 'js_distance', 'js_terms']
