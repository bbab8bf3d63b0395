_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# Scores a baseline checkpoint trained on the COCO-layout scenes
# (`tools/digits_benchmark.py --layout coco --train-images 2000`) on their
# 2000-image test split, with mmdet's CocoMetric and the class-agnostic one
# (every class merged: are the boxes found, whatever their class?):
#   python tools/test.py THIS_FILE work_dirs/.../epoch_N.pth
# (docs/benchmarks/digits/preregistration_2000.md).
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)
data_root = 'data/digits_coco_train2000/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(192, 192), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor'))
]
test_dataloader = dict(dataset=dict(
    data_root=data_root, ann_file='test.json', pipeline=test_pipeline))
test_evaluator = [
    dict(type='CocoMetric', ann_file=data_root + 'test.json', metric='bbox'),
    dict(type='ClassAgnosticCocoMetric', ann_file=data_root + 'test.json')
]
