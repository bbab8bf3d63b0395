_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The baseline with stock RetinaNet's four stacked convs per head branch
# instead of two: a deeper classifier on each FPN level for the
# COCO-layout scenes' large digits. Trained with
# `tools/digits_benchmark.py --layout coco`, which sets the 192-pixel
# Resize (docs/benchmarks/digits/preregistration_2000.md, step 4).
model = dict(bbox_head=dict(stacked_convs=4))
