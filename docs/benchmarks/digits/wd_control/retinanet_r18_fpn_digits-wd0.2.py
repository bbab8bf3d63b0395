_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The digits baseline with AdamW's weight decay at 0.2 instead of 0.05: a
# control arm of docs/benchmarks/digits/preregistration_1100.md (does a
# stronger conventional regulariser give what the label teacher's pull
# gives?). Nothing else changes.
optim_wrapper = dict(optimizer=dict(weight_decay=0.2))
