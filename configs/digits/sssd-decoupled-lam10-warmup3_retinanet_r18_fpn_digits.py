# The decoupled SSSD at lambda 10 (sssd-decoupled-lam10_*: 10, x2 at the
# first LR decay) with LGD's 3-epoch distillation warm-up
# (sssd-decoupled-lam1-warmup3_*'s). A diagnosis
# (docs/benchmarks/digits/preregistration_1400.md): with the warm-up, lambda
# 1 left the student within 0.1 AP of the baseline on every tuning seed
# (its pull on the FPN maps a tenth of the detection loss's, nearly
# orthogonal to it); this asks whether a ten times stronger pull, kept out
# of the first epochs, moves the student.
_base_ = './sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits.py'

model = dict(distill_coef=10.0)
