# sssd-decoupled-lam1-warmup3-adlonly_* without the distillation warm-up:
# the logit term acts from the first iteration. LGD's warm-up lets the
# adapter of a feature pull learn before the student is pulled; the logit
# term has no adapter, and switching it on after epoch 3 costs the student
# 4-5 val AP at epoch 4 (39.6-40.8 against the baseline's 45.8, the 1600
# curves). A tuning step toward +1 AP over the baseline, pre-registered in
# docs/benchmarks/digits/preregistration_1700.md.
_base_ = './sssd-decoupled-lam1-warmup3-adlonly_retinanet_r18_fpn_digits.py'

model = dict(distill_warmup=0)
