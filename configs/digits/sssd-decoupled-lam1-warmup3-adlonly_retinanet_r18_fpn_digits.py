# A control of sssd-decoupled-lam1-warmup3-adl_*: ADL's logit term alone,
# the Jensen-Shannon feature pull (and with it the adapter) left out. Does
# the feature pull add anything beside the logit term? (the 1400 probe: its
# gradient on the maps is nearly orthogonal to the detection loss's).
# Pre-registered in docs/benchmarks/digits/preregistration_1600.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py'

model = dict(distill_loss=None)
