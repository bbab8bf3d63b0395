# A control of sssd-decoupled-lam1-warmup3-adl_*-fpn64.py (the 2200
# probe): ADL's logit term alone, the Jensen-Shannon feature pull (and
# with it the adapter) left out, on the wider student (FPN and head 64
# channels, label teacher at the FPN's width), as the stock *-adlonly
# config leaves it out of *-adl. Does the term that carries the teacher's
# class (where it leads the baseline) cost the student, or the pull on its
# maps? Pre-registered in ../preregistration_2300.md.
_base_ = './sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits-fpn64.py'

model = dict(distill_loss=None)
