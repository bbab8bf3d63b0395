# SAD plus SSSD's label teacher, beyond the reference: the implicit teacher
# of configs/digits/sssd_retinanet_r18_fpn_digits.py is built from the
# boxes of every image, the GT of the labeled ones and the pseudo-boxes of
# the others, so self-distillation also learns from unlabeled images.
_base_ = './sad_retinanet_r18_fpn_digits.py'

model = dict(
    teacher=dict(
        _delete_=True, type='LabelEncoderTeacher', detach_appearance=True, box_class=True,
        class_loss_weight=1.0, feat_channels=32),
    teacher_trains_head=False)
