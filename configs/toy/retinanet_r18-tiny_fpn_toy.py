# A stock RetinaNet shrunk to run anywhere in seconds: ResNet-18 with 16 base
# channels, 32-channel FPN/head, 64x64 images of the toy shapes dataset
# (mmdet_sssd.testing.make_toy_coco). The baseline of sssd_*_toy.py.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

data_root = 'data/toy/'
metainfo = dict(classes=('rectangle', 'ellipse', 'cross'))
model = dict(
    backbone=dict(depth=18, base_channels=16, init_cfg=None),
    neck=dict(in_channels=[16, 32, 64, 128], out_channels=32),
    bbox_head=dict(
        num_classes=3, in_channels=32, feat_channels=32, stacked_convs=1),
    # keep low-score boxes so that early checkpoints still get a COCO score
    test_cfg=dict(score_thr=0.0))

pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(64, 64), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
dataset = dict(
    type='CocoDataset', data_root=data_root, metainfo=metainfo,
    data_prefix=dict(img='images/'), pipeline=pipeline)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, ann_file='train.json',
                 filter_cfg=dict(filter_empty_gt=True), **dataset))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, ann_file='val.json', test_mode=True,
                 **dataset))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=2, milestones=[1],
         gamma=0.1)
]
default_hooks = dict(logger=dict(interval=1))
