# The pull on the objects only: sssd-decoupled-lam1-warmup3_* (LGD's
# 3-epoch warm-up, lambda 1, x2 at the first LR decay) with the Jensen-
# Shannon distance taken per map location (one distribution over the
# channels at each cell, axis='channel') and averaged over the cells the
# ground-truth boxes cover on each level (distill_region='boxes'), as
# fine-grained feature imitation distils object regions. Why: on the whole
# maps the pull's gradient on the student's FPN maps is nearly orthogonal
# to the detection loss's and changes nothing measurable after the warm-up
# (docs/benchmarks/digits/README.md, the 1400 diagnosis); the teacher's
# maps differ from the student's in what they say about the objects.
# Pre-registered in docs/benchmarks/digits/preregistration_1500.md.
_base_ = './sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits.py'

model = dict(
    distill_loss=dict(type='JSDistanceLoss', axis='channel'),
    distill_region='boxes')
