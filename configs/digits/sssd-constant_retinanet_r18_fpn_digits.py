_base_ = './sssd_retinanet_r18_fpn_digits.py'

# SSSD with a constant lambda: the "stepwise" part of SSSD switched off, to
# measure it (docs/benchmarks/digits/README.md). The schedule spends a third
# of its iterations after the first LR decay (epochs 13-18 of 18), as
# LGD's 2x.
custom_hooks = _base_.constant_lambda_hooks
