_base_ = 'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py'
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)

# The stock detector is the student; the label teacher and the JS distance
# loss are the distiller's defaults. Iterations are at batch 16, as in LGD.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=dict(type='LabelEncoderTeacher', use_context_box=False),
    distill_warmup=20000)
# lambda x2 at each of the LR scheduler's milestones ('stepwise').
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook'),
    dict(type='EpochSeedHook'),  # exact resume of the random streams
    dict(type='TrainDataCheckHook')  # bad annotations: error or report
]
# The stock base sets no clip_grad: a plain merge, as mmdet's own configs
# do (a `_delete_` here would leak into clip_grad_value_'s arguments).
optim_wrapper = dict(clip_grad=dict(type='value', clip_value=1.0))
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
