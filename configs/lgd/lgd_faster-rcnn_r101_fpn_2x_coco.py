_base_ = './lgd_faster-rcnn_r50_fpn_2x_coco.py'

# The R-101 student: only the backbone changes, as in mmdet's
# faster-rcnn_r101_fpn_2x_coco.py.
model = dict(
    detector=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(type='Pretrained',
                          checkpoint='torchvision://resnet101'))))
