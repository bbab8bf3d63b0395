# The decoupled SSSD at lambda 10 with lambda constant: SSSD's "stepwise"
# part (x2 at the first LR decay) switched off in sssd-decoupled-lam10 (the
# default job's SSSD then), to measure it there
# (docs/benchmarks/digits/preregistration_500.md, step 4; SSSD reports
# about +0.5 AP for stepwise over a fixed lambda).
_base_ = './sssd-decoupled-lam10_retinanet_r18_fpn_digits.py'

custom_hooks = _base_.constant_lambda_hooks
