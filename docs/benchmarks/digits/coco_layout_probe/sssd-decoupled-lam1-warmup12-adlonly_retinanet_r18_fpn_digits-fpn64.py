# ADL's logit term alone on the wider student (the 2300 probe's
# adlonly-fpn64), switched on at the first LR decay: a distillation
# warm-up of 12 of 18 epochs, in which the label teacher learns and the
# student trains as baseline-fpn64 does; from epoch 12 the term pulls at
# lambda 2 (1, x2 at the decay). On seed 101 the term started at epoch 3
# put the student 2-4 AP behind its baseline through the high-LR epochs
# and 1.3 behind at the end: does it cost, or teach, when it acts only
# at the low LRs? Pre-registered in ../preregistration_3400.md.
_base_ = './sssd-decoupled-lam1-warmup3-adlonly_retinanet_r18_fpn_digits-fpn64.py'

model = dict(distill_warmup=12)
