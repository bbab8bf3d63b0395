_base_ = [
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    '../_base_/lgd_recipe.py', '../_base_/sssd_runtime.py'
]

# SSSD = LGD's teacher and recipe + the JS distance (one square root per
# level) + lambda x2 once, at the first LR decay. The stock detector is
# the student. Iterations are at batch 16 (8 GPUs x 2 images).
# LGD turns the context box off for this detector.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=dict(preset='lgd', use_context_box=False),
    adapter=dict(num_convs=3, kernel_size=3),
    distill_loss=dict(type='JSDistanceLoss', sqrt_per='level'),
    distill_warmup=20000)
param_scheduler = _base_.lgd_param_scheduler_1x
# The stock FCOS base clips by norm: replace its clip_grad whole.
optim_wrapper = dict(clip_grad=dict(_delete_=True, **_base_.lgd_clip_grad))
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
# Set here, not in sssd_runtime.py: mmdet's default_runtime.py defines
# default_hooks, and mmengine refuses one key in two bases of a list.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
