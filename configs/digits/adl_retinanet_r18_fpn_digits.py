_base_ = './sssd_retinanet_r18_fpn_digits.py'

# Adaptive Distillation Loss (Tang et al., 2019) on the classification
# logits: from the head's outputs on the label teacher's maps (detached) to
# those on the student's maps; no feature loss.
model = dict(
    # LGD's 2-epoch distillation warm-up, as in the README's table (the
    # SSSD config has none)
    distill_warmup=2,
    distill_loss=None, logit_distill_loss=dict(type='AdaptiveDistillLoss'))
