_base_ = '../../../../configs/digits/sssd-decoupled_retinanet_r18_fpn_digits.py'
# sssd-decoupled with lambda 3 (x2 at the first LR decay, as there) and
# AdamW's weight decay at 0.5 (student and label teacher alike), the
# baseline's weight decay chosen in step 1 of
# docs/benchmarks/digits/preregistration_1200.md: an arm of its step 2
# (SSSD's lambda tuned against the tuned baseline). Nothing else changes.
model = dict(distill_coef=3.0)
optim_wrapper = dict(optimizer=dict(weight_decay=0.5))
