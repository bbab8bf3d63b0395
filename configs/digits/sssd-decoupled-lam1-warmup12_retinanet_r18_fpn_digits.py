# The default job's SSSD (sssd-decoupled-lam1_*) with the pull switched on
# at the first LR decay: a distillation warm-up of 12 of 18 epochs, in which
# the teacher and the adapter learn and the student trains as the baseline
# does; from epoch 12 the student is pulled, at lambda 2 (1, x2 at the
# decay). A diagnosis of the 1300 test: it asks whether the pull helps once
# it can no longer slow the student's early learning, with a teacher that
# is by then far ahead (docs/benchmarks/digits/README.md).
_base_ = './sssd-decoupled-lam1_retinanet_r18_fpn_digits.py'

model = dict(distill_warmup=12)
