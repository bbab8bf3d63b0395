# LGD's training recipe (megvii-research/LGD, configs/Distillation/*.yaml),
# as named pieces for the configs of configs/{sssd,lgd,sssd-lite}/ to use
# (`param_scheduler = _base_.lgd_param_scheduler_2x`...). Iterations are at
# batch 16 (8 GPUs x 2 images); with --auto-scale-lr the LR follows the
# batch, the iteration counts do not.

# Linear LR warm-up over 1000 iterations from 1e-3 (mmdet's stock: 500).
lgd_lr_warmup = dict(
    type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000)
lgd_param_scheduler_1x = [
    lgd_lr_warmup,
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True,
         milestones=[8, 11], gamma=0.1)
]
# 24 epochs ~ 176k iterations, decays at ~117k / ~161k (LGD: 180k, 120k,
# 160k).
lgd_param_scheduler_2x = [
    lgd_lr_warmup,
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True,
         milestones=[16, 22], gamma=0.1)
]
# Gradients clipped by value at 1.0 (detectron2's CLIP_TYPE 'value').
lgd_clip_grad = dict(type='value', clip_value=1.0)
# Multi-scale training: shorter side one of 640, 672, ..., 800, longer at
# most 1333; horizontal flip.
lgd_ms_train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='RandomChoiceResize',
        scales=[(1333, 640), (1333, 672), (1333, 704), (1333, 736),
                (1333, 768), (1333, 800)],
        keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
