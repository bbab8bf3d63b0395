# The recommended configuration with the label teacher, its head pass and
# both distillation terms on the first half of each batch (4 of 8
# images) in every iteration; the student's detection loss sees all 8.
# docs/benchmarks/digits/preregistration_3600.md.
_base_ = '../../../../configs/digits/sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py'

model = dict(distill_batch_ratio=0.5)
