_base_ = '../sssd/sssd_retinanet_r50_fpn_2x_coco.py'

# Label-guided self-distillation with the SSIM structural loss (de Rijk et
# al., 2022) instead of the JS distance. The paper sums over the 5 levels,
# the distiller averages them: loss_weight=5.
model = dict(
    distill_loss=dict(type='SSIMDistillLoss', loss_weight=5.0))
