# The 3900 arm (sssd-decoupled-lam1-warmup3_faster-rcnn_*) with one change:
# the label teacher's maps are the student's own maps (detached) plus what
# the teacher learns from the labels (`student_residual`, its output norm
# initialised to 0, so it starts as its student). On this student the label
# teacher of the 3900-4200 arms finds boxes 1.65-3.4 class-agnostic AP worse
# than its student and the feature pulls cost localisation (the benchmark
# page's "where the teacher finds boxes better than its student"): a teacher
# that keeps its student's localisation and adds the class.
# Pre-registered in docs/benchmarks/digits/preregistration_4300.md.
_base_ = './sssd-decoupled-lam1-warmup3_faster-rcnn_r18_fpn_digits-fpn64.py'

model = dict(teacher=dict(student_residual=True))
