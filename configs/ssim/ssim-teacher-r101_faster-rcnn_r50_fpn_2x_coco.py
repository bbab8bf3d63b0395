_base_ = [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
    '../_base_/sssd_runtime.py'
]

# de Rijk et al.'s setting: a pretrained Faster R-CNN R-101 (model zoo,
# 39.8 AP) teaches an R-50 student with the SSIM loss on the FPN maps.
# No label teacher; lambda constant. Their distance clamp((1 - SSIM) / 2,
# 0, 1); the 5 levels averaged, so loss_weight=5 is the paper's lambda = 1.
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=None,
    pretrained_teacher=dict(
        config='mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
        checkpoint='https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r101_fpn_2x_coco/faster_rcnn_r101_fpn_2x_coco_bbox_mAP-0.398_20200504_210455-1d2dac9c.pth',  # noqa
        feat_loss=dict(
            type='SSIMDistillLoss', convention='kornia', loss_weight=5.0)))
custom_hooks = _base_.constant_lambda_hooks
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
# Set here, not in sssd_runtime.py: the stock base defines default_hooks,
# and mmengine refuses one key in two bases of a list.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
