# sssd-decoupled-lam1-warmup3-adl_* with lambda constant: SSSD's "stepwise"
# part (lambda x2 at the first LR decay) switched off in the configuration
# that beat the baseline on fresh seeds 1500-1505, to measure it there
# (SSSD reports about +0.5 AP for stepwise over a fixed lambda).
# Pre-registered in docs/benchmarks/digits/preregistration_1600.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py'

custom_hooks = _base_.constant_lambda_hooks
