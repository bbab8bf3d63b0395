_base_ = ['./retinanet_r18_fpn_digits.py', '../_base_/sssd_runtime.py']

# A conventional teacher: the baseline trained by the digits job (any
# checkpoint of configs/digits/retinanet_r18_fpn_digits.py), frozen, with
# ADL on the logits and the JS distance on the FPN maps, alongside the label
# teacher. Set the checkpoint with
#   --cfg-options model.pretrained_teacher.checkpoint=PATH
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    distill_warmup=3,
    by_epoch=True,
    pretrained_teacher=dict(
        config='configs/digits/retinanet_r18_fpn_digits.py',
        checkpoint='work_dirs/digits_benchmark/baseline_seed0/epoch_18.pth',
        feat_loss=dict(type='JSDistanceLoss'),
        logit_loss=dict(type='AdaptiveDistillLoss')))
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
