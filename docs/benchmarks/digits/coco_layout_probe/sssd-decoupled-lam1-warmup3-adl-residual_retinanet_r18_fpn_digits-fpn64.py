# The recommended SSSD on the wider COCO-layout RetinaNet
# (sssd-decoupled-lam1-warmup3-adl_retinanet_*-fpn64, the 2200 arm) with one
# change: the label teacher's maps are the student's own (detached) plus
# what it learns from the labels (`student_residual`). On the 96-pixel
# scenes, where this recipe gains, its teacher finds boxes 6.4-6.7
# class-agnostic AP better than its student; on these scenes 4.3-4.45 worse.
# On the two-stage student such a teacher finds boxes 4.0 better (the 4300
# probe). Pre-registered in docs/benchmarks/digits/preregistration_4400.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits-fpn64.py'

model = dict(teacher=dict(student_residual=True))
