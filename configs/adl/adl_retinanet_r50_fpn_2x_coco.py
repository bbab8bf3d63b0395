_base_ = '../sssd/sssd_retinanet_r50_fpn_2x_coco.py'

# Label-guided self-distillation of the classification logits with the
# Adaptive Distillation Loss (Tang et al., 2019): from the head's outputs on
# the label teacher's maps to those on the student's; no feature loss.
model = dict(
    distill_loss=None, logit_distill_loss=dict(type='AdaptiveDistillLoss'))
