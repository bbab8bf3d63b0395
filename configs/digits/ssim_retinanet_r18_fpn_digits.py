_base_ = './sssd_retinanet_r18_fpn_digits.py'

# The SSIM structural loss (de Rijk et al., 2022) instead of the JS distance,
# inside the label-guided self-distillation. The paper sums over levels, the
# distiller averages: loss_weight = 4 levels.
model = dict(
    # LGD's distillation warm-up (30k of 180k iterations: 3 of 18 epochs;
    # the recommended SSSD config has none)
    distill_warmup=3,
    distill_loss=dict(_delete_=True, type='SSIMDistillLoss', loss_weight=4.0))
