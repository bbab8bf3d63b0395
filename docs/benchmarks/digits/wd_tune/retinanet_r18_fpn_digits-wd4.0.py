_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The digits baseline with AdamW's weight decay at 4.0 instead of 0.05: an arm
# of the weight-decay grid of docs/benchmarks/digits/preregistration_1200.md
# (the baseline's regulariser chosen on tuning seeds before SSSD is measured
# against it). Nothing else changes.
optim_wrapper = dict(optimizer=dict(weight_decay=4.0))
