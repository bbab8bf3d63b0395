# The geometry teacher of the 5200 probe (the recommended configuration
# with box_geometry=True) with a mapper twice as wide (64 channels, the
# 'lite' preset's own width, against the digits configs' 32) and twice as
# deep (four Conv3x3-GN-ReLU blocks before its output conv, against two).
# Why: on the scenes at COCO's sizes the teacher finds the objects and
# draws them loosely, and a head refitted to its maps closes only part of
# that (the 5400 measurement: the maps, not mainly the head, hold it); the
# mapper that turns the painted labels into maps is the part of the
# teacher that draws. Pre-registered in
# docs/benchmarks/digits/preregistration_5500.md.
_base_ = '../teacher_geometry_probe/sssd-decoupled-lam1-warmup3-adl-geometry_retinanet_r18_fpn_digits.py'

model = dict(
    teacher=dict(
        feat_channels=64, preset_overrides=dict(num_refine_convs=4)))
