# The pull on the head's outputs as well: sssd-decoupled-lam1-warmup3_*
# plus ADL's logit term (Tang et al. 2019; released alpha 0.5, gamma 2,
# beta 1) from the head's classification logits on the label teacher's
# maps (detached) to those on the student's, at the same lambda (x2 at the
# first LR decay) and the same warm-up. The ignored anchors (RetinaNet's
# IoU 0.4-0.5 band) keep their term: there the teacher's scores are a
# target the detection loss does not give. Why: the feature pull's gradient
# is nearly orthogonal to the detection loss's and changes nothing after
# the warm-up (the 1400 diagnosis); the teacher leads its student most in
# finding and classing objects (val AP50 96 against 81), which its logits
# carry. Pre-registered in docs/benchmarks/digits/preregistration_1500.md.
_base_ = './sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits.py'

model = dict(logit_distill_loss=dict(type='AdaptiveDistillLoss'))
