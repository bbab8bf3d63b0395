_base_ = './sssd_retinanet_r18_fpn_digits.py'

# LGD: squared error instead of the JS distance, constant lambda.
model = dict(
    distill_loss=dict(type='MSELoss'),
    # LGD's 2-epoch distillation warm-up, as in the README's table (the
    # SSSD config has none)
    distill_warmup=2)
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook', rule='constant'),
    dict(type='EpochSeedHook'),
    dict(type='TrainDataCheckHook')
]
