_base_ = '../sssd/sssd_faster-rcnn_r101_fpn_2x_coco.py'

# LGD: squared error instead of the JS distance, constant lambda.
model = dict(distill_loss=dict(type='MSELoss'))
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook', rule='constant'),
    dict(type='EpochSeedHook'),
    dict(type='TrainDataCheckHook')
]
