from .label_encoder_teacher import LabelEncoderTeacher

__all__ = ['LabelEncoderTeacher']
