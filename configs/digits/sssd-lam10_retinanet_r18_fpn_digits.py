# The recommended SSSD (configs/digits/sssd_*: label teacher with class and
# box painted, head trained by the teacher during the warm-up only) with
# lambda 10 instead of 1 (x2 at the first LR decay). At lambda 1 the
# distillation term moved the student little; on tuning seeds 100-102 (one
# AMD EPYC 2-core machine, test split) this config's teacher is ahead of its
# student at every validation after the first epoch (by 4.7 AP at least)
# and 11.8-13.0 AP ahead on val at the end, and its student is at or above
# the baseline on each seed (+0.3 / +0.4 / +1.6 AP): issue 25's target.
# With 2000 train images for 18 epochs (tools/digits_benchmark.py
# --train-images 2000 --epochs 18), chosen on tuning seeds 100/101 by a
# rule fixed in advance (docs/benchmarks/digits/preregistration_800.md),
# then +0.95 AP [+0.23, +1.67] over the baseline on fresh seeds 800-807.
_base_ = './sssd_retinanet_r18_fpn_digits.py'

model = dict(distill_coef=10.0)
