_base_ = [
    './adl-teacher-r101_retinanet_r50_fpn_2x_coco.py',
    '../_base_/adl_reference.py'
]

# ADL exactly as the reference code computes it: alpha-BCE base, T^2
# convention, the assigner's ignore band (IoU 0.4-0.5) masked out. The
# parent config keeps the paper's KL form (the plugin's default).
model = dict(
    mask_ignored_anchors=True,
    pretrained_teacher=dict(logit_loss=_base_.reference_adl))
