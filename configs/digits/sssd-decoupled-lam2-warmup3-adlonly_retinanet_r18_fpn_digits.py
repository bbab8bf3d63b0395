# sssd-decoupled-lam1-warmup3-adlonly_* (ADL's logit term from the label
# teacher alone, no feature pull) at lambda 2 (x2 at the first LR decay):
# a harder pull toward the teacher's scores, which teach (a heavier focal
# loss of the same push cost 1.2 AP: preregistration_1600.md). A tuning
# step toward +1 AP over the baseline, pre-registered in
# docs/benchmarks/digits/preregistration_1700.md.
_base_ = './sssd-decoupled-lam1-warmup3-adlonly_retinanet_r18_fpn_digits.py'

model = dict(distill_coef=2.0)
