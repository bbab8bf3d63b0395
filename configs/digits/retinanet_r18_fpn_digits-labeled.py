# The semi-supervised benchmark's baseline, and SAD's teacher: the digits
# baseline trained on the labeled quarter of the train split only
# (train_labeled.json, 250 of 1000 images, written by
# tools/digits_benchmark.py; the other 750 are SAD's unlabeled images).
# Iteration-based, the same 750 iterations at batch 8 as the other digits
# runs (24 passes over the labeled images), LR x0.1 at 2/3 and 5/6.
_base_ = './retinanet_r18_fpn_digits.py'

train_dataloader = dict(
    sampler=dict(type='InfiniteSampler'),
    dataset=dict(ann_file='train_labeled.json'))
max_iters = 750
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=150)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0,
         end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[500, 625], gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
