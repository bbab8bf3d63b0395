_base_ = '../sssd/sssd_faster-rcnn_r50_fpn_2x_coco.py'

# Label-guided self-distillation with the SSIM structural loss (de Rijk et
# al., 2022); loss_weight=5 turns the distiller's mean over levels into the
# paper's sum.
model = dict(
    distill_loss=dict(type='SSIMDistillLoss', loss_weight=5.0))
