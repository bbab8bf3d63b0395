_base_ = ['./faster-rcnn_r18_fpn_digits-fpn64.py',
          '../../../../configs/_base_/sssd_runtime.py']
# The two-stage student of the 3800 probe distilled with the recommended
# recipe less ADL's logit term, which needs a dense head:
# configs/digits/sssd-decoupled-lam1-warmup3_* (the lite label teacher at
# the FPN's width, its class painted on and its appearance input detached;
# a 3-conv 1x1 adapter; the Jensen-Shannon distance with one square root
# per distribution; the head trained on the student's maps only; lambda 1,
# x2 at the first LR decay; LGD's 3-epoch warm-up) with the detector
# swapped. The label teacher's maps run the detector's own RPN and RoI
# head (its own proposals and RoIs, as LGD). Pre-registered in
# docs/benchmarks/digits/preregistration_3900.md.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=dict(type='LabelEncoderTeacher', preset='lite',
                 feat_channels=64, detach_appearance=True, box_class=True,
                 box_position=True, class_loss_weight=1.0),
    adapter=dict(num_convs=3, kernel_size=1),
    distill_loss=dict(type='JSDistanceLoss', sqrt_per='distribution'),
    teacher_trains_head=False,
    distill_coef=1.0,
    distill_warmup=3,
    backbone_freeze=0,
    by_epoch=True)
val_cfg = dict(type='LabelTeacherValLoop')
find_unused_parameters = False
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
