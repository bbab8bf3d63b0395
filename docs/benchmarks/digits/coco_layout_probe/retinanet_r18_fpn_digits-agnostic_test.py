_base_ = './retinanet_r18_fpn_digits.py'
# Scores a baseline checkpoint trained on the COCO-layout scenes on their
# 2000-image test split in data/digits_coco (written by
# `tools/digits_benchmark.py --layout coco --train-images 1000`; every
# data/digits_coco* folder has the same test images) with mmdet's
# CocoMetric and the class-agnostic one (every class merged: are the
# boxes found, whatever their class?):
#   python tools/test.py THIS_FILE work_dirs/.../epoch_N.pth
# (docs/benchmarks/digits/preregistration_2000.md).
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)
test_evaluator = [
    dict(type='CocoMetric', ann_file='data/digits_coco/test.json',
         metric='bbox'),
    dict(type='ClassAgnosticCocoMetric',
         ann_file='data/digits_coco/test.json')
]
