# As sssd-decoupled-lam1-warmup3-adl-every2 with lambda doubled (2, x2 at
# the first LR decay): the pull summed over a run about the recommended
# configuration's. docs/benchmarks/digits/preregistration_3500.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl-every2_retinanet_r18_fpn_digits.py'

model = dict(distill_coef=2.0)
