# The 5500 probe's wide-mapper geometry teacher with its width alone: the
# mapper 64 channels wide (the 'lite' preset's own width, against the
# digits configs' 32) and two Conv3x3-GN-ReLU blocks as the geometry
# teacher has. Why: the wide, deep mapper helped its student on COCO's
# sizes and layout but costs 3.5x a baseline run; this and the depth4
# config split its two changes to find the cheaper lever.
# Written with docs/benchmarks/digits/preregistration_6000.md, not run
# there: a run of it needs a pre-registration of its own.
_base_ = '../teacher_geometry_probe/sssd-decoupled-lam1-warmup3-adl-geometry_retinanet_r18_fpn_digits.py'

model = dict(teacher=dict(feat_channels=64))
