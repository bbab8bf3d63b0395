_base_ = './lgd_fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py'

# The R-101 student: the backbone of mmdet's
# fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py.
# LGD keeps the context box for FCOS R-101 (off for R-50): the
# teacher replaced whole, the preset's default.
model = dict(
    detector=dict(
        backbone=dict(
            depth=101,
            init_cfg=dict(
                type='Pretrained',
                checkpoint='open-mmlab://detectron/resnet101_caffe'))),
    teacher=dict(_delete_=True, preset='lgd'))
