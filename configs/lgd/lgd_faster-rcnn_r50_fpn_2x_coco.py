_base_ = '../sssd/sssd_faster-rcnn_r50_fpn_2x_coco.py'

# LGD (Zhang et al., AAAI 2022): its squared error as one mean over the
# elements of all levels, and a constant lambda; everything else as in
# configs/sssd/ (LGD's teacher, adapter and recipe).
model = dict(
    distill_loss=dict(_delete_=True, type='MSELoss'), level_weights='size')
custom_hooks = _base_.constant_lambda_hooks
