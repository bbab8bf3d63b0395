from .coco_layout import scene_statistics
from .coco_split import split_coco_labeled
from .digits_generator import CLASSES as DIGITS_CLASSES
from .digits_generator import GENERATOR_VERSION, generate_digits_coco

__all__ = [
    'DIGITS_CLASSES', 'GENERATOR_VERSION', 'generate_digits_coco',
    'scene_statistics', 'split_coco_labeled'
]
