_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py',
    '../_base_/sssd_runtime.py'
]

# Tang et al.'s setting: a pretrained RetinaNet R-101 (model zoo, 38.9 AP)
# teaches an R-50 student with ADL on the classification logits (same
# anchors and classes). No label teacher; lambda constant.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=None,
    pretrained_teacher=dict(
        config='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
        checkpoint='https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth',  # noqa
        feat_loss=None,
        logit_loss=dict(type='AdaptiveDistillLoss')))
custom_hooks = _base_.constant_lambda_hooks
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
# Set here, not in sssd_runtime.py: the stock base defines default_hooks,
# and mmengine refuses one key in two bases of a list.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
