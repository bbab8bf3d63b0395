_base_ = 'mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py'
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)

# The stock detector is the student; the label teacher and the JS distance
# loss are the distiller's defaults. Iterations are at batch 16, as in LGD.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    distill_warmup=30000,
    backbone_freeze=20000)
# lambda x2 at each of the LR scheduler's milestones ('stepwise').
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook'),
    dict(type='EpochSeedHook'),  # exact resume of the random streams
    dict(type='TrainDataCheckHook')  # bad annotations: error or report
]
# The stock FCOS base clips by norm: replace its clip_grad whole.
optim_wrapper = dict(clip_grad=dict(_delete_=True, type='value', clip_value=1.0))
# The frozen backbone gets no gradient for 20k iterations: DDP must allow it.
find_unused_parameters = True
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
