_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The digits config on the COCO-layout scenes (192 px); only the data and
# the resize change (docs/benchmarks/digits/README.md, the probe).
root = 'data/digits_coco/'
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
train_dataloader = dict(dataset=dict(data_root=root, pipeline=pipeline))
val_dataloader = dict(dataset=dict(data_root=root, pipeline=pipeline))
test_dataloader = dict(
    dataset=dict(data_root=root, ann_file='test.json', pipeline=pipeline))
val_evaluator = dict(ann_file=root + 'val.json')
test_evaluator = dict(ann_file=root + 'test.json')
