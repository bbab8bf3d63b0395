_base_ = ['./retinanet_r18_fpn_digits.py', '../_base_/sssd_runtime.py']

# SSSD as published: configs/sssd/ (LGD's teacher and recipe, the JS
# distance per level, lambda x2 at the first LR decay) scaled to the
# digits student. How it differs from its COCO sibling
# (sssd_retinanet_r50_fpn_2x_coco.py), and why:
# - the teacher is LGD's at the FPN's width (32, not 256 channels);
# - LGD's distillation warm-up and backbone freeze keep their fractions of
#   LGD's 2x schedule: 30k and 20k of 180k iterations = 3 and 2 of 18
#   epochs;
# - the optimizer, LR schedule and data are the digits baseline's (AdamW,
#   no gradient clipping, single scale), so that the baseline and every
#   distilled config differ only in the distillation.
# Its label teacher finds the boxes and not their classes on this
# benchmark (docs/user_guides/teacher.md): the recommended configuration
# is sssd_retinanet_r18_fpn_digits.py.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=dict(type='LabelEncoderTeacher', preset='lgd'),
    adapter=dict(num_convs=3, kernel_size=3),
    distill_loss=dict(type='JSDistanceLoss', sqrt_per='level'),
    distill_warmup=3,
    backbone_freeze=2,
    by_epoch=True)
# Each validation also scores the label teacher (the student's head on its
# maps): teacher/coco/bbox_mAP..., and the class-agnostic AP of both.
val_cfg = dict(type='LabelTeacherValLoop')
# The frozen backbone gets no gradient for 2 epochs: DDP must allow it.
find_unused_parameters = True
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
