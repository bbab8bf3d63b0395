_base_ = './sssd_faster-rcnn_r50_fpn_2x_coco.py'

# LGD's multi-scale training (shorter side one of 640..800, step 32),
# the setting of all of LGD's released COCO results.
train_dataloader = dict(dataset=dict(pipeline=_base_.lgd_ms_train_pipeline))
