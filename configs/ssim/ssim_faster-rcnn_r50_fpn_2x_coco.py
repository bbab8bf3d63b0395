_base_ = '../sssd/sssd_faster-rcnn_r50_fpn_2x_coco.py'

# Label-guided self-distillation with the SSIM structural loss of de Rijk
# et al. (2022) instead of the JS distance: their distance
# clamp((1 - SSIM) / 2, 0, 1) over all positions (reflect padding), and
# their constant lambda. The distiller averages the 5 levels, the paper
# sums them: loss_weight=5 is the paper's lambda = 1.
model = dict(
    distill_loss=dict(
        _delete_=True,
        type='SSIMDistillLoss',
        convention='kornia',
        loss_weight=5.0))
custom_hooks = _base_.constant_lambda_hooks
