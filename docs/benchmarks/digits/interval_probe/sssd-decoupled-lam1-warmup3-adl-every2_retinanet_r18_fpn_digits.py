# The recommended configuration distilling on every other iteration: the
# label teacher, its head pass and both distillation terms run on the
# even iterations; on the odd ones the student trains alone, at a
# baseline step's cost. lambda as recommended (1, x2 at the first LR
# decay). docs/benchmarks/digits/preregistration_3500.md.
_base_ = '../../../../configs/digits/sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py'

model = dict(distill_interval=2)
