from .label_teacher_val_loop import LabelTeacherValLoop

__all__ = ['LabelTeacherValLoop']
