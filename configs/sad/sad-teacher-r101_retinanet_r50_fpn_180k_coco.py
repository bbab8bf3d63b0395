_base_ = '../adl/adl-reference-teacher-r101_retinanet_r50_fpn_2x_coco.py'

# SAD (Tang et al., semi-supervised adaptive distillation): a RetinaNet
# R-50 student learns from COCO train2017 and from unlabeled2017
# pseudo-labeled by its R-101 teacher (model zoo, 38.9 AP), one labeled
# and one pseudo-labeled image per GPU in every batch (the reference
# alternates whole minibatches, 1:1), with the reference ADL from the
# teacher on both. First write the pseudo-labels (docs/user_guides/
# semi_supervised.md):
#   python tools/dataset_converters/pseudo_label.py mmdet::retinanet/retinanet_r101_fpn_2x_coco.py \
#       R101_CKPT data/coco/annotations/image_info_unlabeled2017.json \
#       data/coco/annotations/unlabeled2017_pseudo_r101.json \
#       --img-dir data/coco/unlabeled2017/ --score-thr 0.5 \
#       --categories-from data/coco/annotations/instances_train2017.json
# Iterations are at batch 16 (8 GPUs x 2 images): 180k, as the reference
# 2x's count, LR x0.1 at 120k and 160k; half of each batch is labeled.
labeled = _base_.train_dataloader.dataset
pseudo_labeled = dict(
    labeled,
    ann_file='annotations/unlabeled2017_pseudo_r101.json',
    data_prefix=dict(img='unlabeled2017/'))
train_dataloader = dict(
    batch_size=2,
    sampler=dict(_delete_=True, type='GroupMultiSourceSampler',
                 batch_size=2, source_ratio=[1, 1]),
    dataset=dict(_delete_=True, type='ConcatDataset',
                 datasets=[labeled, pseudo_labeled]))
max_iters = 180000
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=max_iters,
    val_interval=10000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters,
         milestones=[120000, 160000], gamma=0.1)
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=10000))
log_processor = dict(by_epoch=False)
# lambda constant; one 'epoch' here: EpochSeedHook seeds the run's start
custom_hooks = _base_.constant_lambda_hooks
