_base_ = './sssd_retinanet_r50_fpn_2x_coco.py'

# Both teachers: SSSD's label teacher and a pretrained RetinaNet R-101
# (model zoo, 38.9 AP), JS distance on the FPN maps and ADL on the logits.
model = dict(
    pretrained_teacher=dict(
        config='mmdet::retinanet/retinanet_r101_fpn_2x_coco.py',
        checkpoint='https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth',  # noqa
        feat_loss=dict(type='JSDistanceLoss'),
        logit_loss=dict(type='AdaptiveDistillLoss')))
