from .js_distance_loss import JSDistanceLoss, js_distance

__all__ = ['JSDistanceLoss', 'js_distance']
