_base_ = './sssd_retinanet_r18_fpn_digits.py'

# Adaptive Distillation Loss (Tang et al., 2019) on the classification
# logits: from the head's outputs on the label teacher's maps (detached) to
# those on the student's maps; no feature loss.
model = dict(
    # LGD's distillation warm-up (30k of 180k iterations: 3 of 18 epochs;
    # the recommended SSSD config has none)
    distill_warmup=3,
    distill_loss=None, logit_distill_loss=dict(type='AdaptiveDistillLoss'))
