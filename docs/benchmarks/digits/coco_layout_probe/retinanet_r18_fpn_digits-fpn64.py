_base_ = '../../../../configs/digits/retinanet_r18_fpn_digits.py'
# The baseline with twice the FPN and head width (64 channels instead of
# 32), the pretrained backbone unchanged: more capacity where the class
# of the COCO-layout scenes' large digits is lost. Trained with
# `tools/digits_benchmark.py --layout coco`, which sets the 192-pixel
# Resize (docs/benchmarks/digits/preregistration_2000.md, step 4).
model = dict(
    neck=dict(out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64))
