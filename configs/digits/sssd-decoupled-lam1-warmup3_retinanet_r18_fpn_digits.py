# The default job's SSSD (sssd-decoupled-lam1_*) with LGD's distillation
# warm-up put back: for the first 3 of 18 epochs (LGD's 30k of 180k
# iterations) only the adapter learns from the distillation term and the
# student is not pulled. A diagnosis of the 1300 test, where the pull slowed
# the student from epoch 1 (val 5.4 against the baseline's 6.2 after epoch
# 1, 28.3 against 31.3 after epoch 2) and it never caught up
# (docs/benchmarks/digits/README.md).
_base_ = './sssd-decoupled-lam1_retinanet_r18_fpn_digits.py'

model = dict(distill_warmup=3)
