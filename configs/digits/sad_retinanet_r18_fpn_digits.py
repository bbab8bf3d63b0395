# SAD on the digits benchmark (Tang et al.'s semi-supervised adaptive
# distillation): the labeled quarter of the train split plus the other
# 750 images pseudo-labeled by the teacher, 1:1 in every batch, with the
# reference ADL from the teacher on both kinds. The teacher is the
# labeled-only baseline (retinanet_r18_fpn_digits-labeled.py) of the same
# seed; tools/digits_benchmark.py --methods semi-baseline,sad trains it,
# writes the pseudo-labels (tools/dataset_converters/pseudo_label.py) and
# sets both paths:
#   --cfg-options model.pretrained_teacher.checkpoint=CKPT
#       train_dataloader.dataset.datasets.1.ann_file=PSEUDO_JSON
_base_ = [
    './retinanet_r18_fpn_digits-labeled.py', '../_base_/adl_reference.py',
    '../_base_/sssd_runtime.py'
]

labeled = _base_.train_dataloader.dataset
train_dataloader = dict(
    sampler=dict(_delete_=True, type='GroupMultiSourceSampler',
                 batch_size=8, source_ratio=[1, 1]),
    dataset=dict(
        _delete_=True, type='ConcatDataset',
        datasets=[labeled,
                  dict(labeled,
                       ann_file='work_dirs/digits_benchmark/sad_seed0/'
                       'pseudo.json')]))
model = dict(
    _delete_=True,
    type='SSSDDistiller',
    detector=_base_.model,
    teacher=None,
    mask_ignored_anchors=True,
    pretrained_teacher=dict(
        config='configs/digits/retinanet_r18_fpn_digits-labeled.py',
        checkpoint='work_dirs/digits_benchmark/semi-baseline_seed0/'
        'iter_750.pth',
        feat_loss=None,
        logit_loss=_base_.reference_adl))
# lambda constant; one 'epoch' here: EpochSeedHook seeds the run's start
custom_hooks = _base_.constant_lambda_hooks
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
