# The whole recommended recipe on the two-stage student: the 3900 arm
# (sssd-decoupled-lam1-warmup3_faster-rcnn_*) plus ADL's logit term moved to
# the RoI head: the box head's softmax class scores (K digits and the
# background) for the RoIs the student's pass sampled, on the label
# teacher's maps (detached) as the target of those on the student's, ADL's
# focus per RoI (AdaptiveDistillLoss(use_sigmoid=False); released gamma 2,
# beta 1), at the same lambda and warm-up. An extension: ADL was published
# for RetinaNet's dense sigmoid head. Pre-registered in
# docs/benchmarks/digits/preregistration_4000.md.
_base_ = './sssd-decoupled-lam1-warmup3_faster-rcnn_r18_fpn_digits-fpn64.py'

model = dict(logit_distill_loss=dict(type='AdaptiveDistillLoss',
                                     use_sigmoid=False))
