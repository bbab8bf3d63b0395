_base_ = '../../../../configs/digits/sssd-decoupled-lam10_retinanet_r18_fpn_digits.py'
# sssd-decoupled-lam10 with AdamW's weight decay at 0.5 instead of 0.05 (the
# student and its label teacher alike): step 2 of
# docs/benchmarks/digits/preregistration_1100.md (does the pull add to the
# stronger regulariser?). Nothing else changes.
optim_wrapper = dict(optimizer=dict(weight_decay=0.5))
