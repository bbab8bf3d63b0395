from .digits_generator import CLASSES as DIGITS_CLASSES
from .digits_generator import generate_digits_coco

__all__ = ['DIGITS_CLASSES', 'generate_digits_coco']
