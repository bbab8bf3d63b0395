_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The baseline with a fifth FPN level (stride 64, an extra conv on C5 as
# stock RetinaNet's P6): anchors up to 256 pixels instead of 128, for the
# COCO-layout scenes' large digits (glyph sides 114-150 pixels). Trained
# with `tools/digits_benchmark.py --layout coco`, which sets the 192-pixel
# Resize (docs/benchmarks/digits/preregistration_1900.md, step 2).
model = dict(
    neck=dict(num_outs=5),
    bbox_head=dict(anchor_generator=dict(strides=[4, 8, 16, 32, 64])))
