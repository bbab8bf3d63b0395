_base_ = './sssd_retinanet_r18_fpn_digits.py'

# LGD: squared error instead of the JS distance, constant lambda.
model = dict(
    distill_loss=dict(type='MSELoss'),
    # LGD's distillation warm-up (30k of 180k iterations: 1 of 6 epochs; the
    # SSSD config has none)
    distill_warmup=1)
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook', rule='constant'),
    dict(type='EpochSeedHook'),
    dict(type='TrainDataCheckHook')
]
