# A control of the 4000 arm (sssd-decoupled-lam1-warmup3-adl_faster-rcnn_*):
# ADL's logit term on the RoI head alone, the Jensen-Shannon feature pull
# (and with it the adapter) left out, as the RetinaNet *-adlonly controls
# leave it out. On this student the label teacher's lead is all class (its
# AP equals its class-agnostic AP; it finds boxes worse than its student)
# and the feature pulls cost localisation (the 4100 reading and the
# class-agnostic scores after it): does the term that carries the
# teacher's class scores, without the pull, give the student anything?
# Pre-registered in docs/benchmarks/digits/preregistration_4200.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl_faster-rcnn_r18_fpn_digits-fpn64.py'

model = dict(distill_loss=None)
