_base_ = './sssd_retinanet_r18_fpn_digits.py'

# LGD: squared error instead of the JS distance, constant lambda.
model = dict(distill_loss=dict(type='MSELoss'))
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook', rule='constant'),
    dict(type='EpochSeedHook'),
    dict(type='TrainDataCheckHook')
]
