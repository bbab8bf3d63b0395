# SSSD on the toy RetinaNet: the three lines that distill any stock detector.
_base_ = './retinanet_r18-tiny_fpn_toy.py'
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)

model = dict(_delete_=True, type='SSSDDistiller', detector=_base_.model)
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook'),
    dict(type='EpochSeedHook'),  # exact resume of the random streams
    dict(type='TrainDataCheckHook')  # bad annotations: error or report
]
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
