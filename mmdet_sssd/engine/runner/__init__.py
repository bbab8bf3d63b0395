from .self_distill_val_loop import SelfDistillValLoop

__all__ = ['SelfDistillValLoop']
