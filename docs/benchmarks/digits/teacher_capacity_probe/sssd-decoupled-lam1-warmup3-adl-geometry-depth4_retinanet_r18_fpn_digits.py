# The 5500 probe's wide-mapper geometry teacher with its depth alone: four
# Conv3x3-GN-ReLU blocks before the mapper's output conv (against two),
# at the digits configs' width of 32 channels. Why: the wide, deep mapper
# helped its student on COCO's sizes and layout but costs 3.5x a baseline
# run; this and the width64 config split its two changes to find the
# cheaper lever.
# Written with docs/benchmarks/digits/preregistration_6000.md, not run
# there: a run of it needs a pre-registration of its own.
_base_ = '../teacher_geometry_probe/sssd-decoupled-lam1-warmup3-adl-geometry_retinanet_r18_fpn_digits.py'

model = dict(teacher=dict(preset_overrides=dict(num_refine_convs=4)))
