_base_ = ('../../../../configs/digits/'
          'sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits.py')
# The wider student (FPN and head 64 channels, label teacher at the FPN's
# width) of the fpn64 probe configs, here with the Jensen-Shannon feature
# pull alone: a control of sssd-decoupled-lam1-warmup3-adl_*-fpn64.py
# (the 2200 probe), which adds ADL's logit term to it. Pre-registered in
# ../preregistration_2300.md.
model = dict(
    detector=dict(
        neck=dict(out_channels=64),
        bbox_head=dict(in_channels=64, feat_channels=64)),
    teacher=dict(feat_channels=64))
