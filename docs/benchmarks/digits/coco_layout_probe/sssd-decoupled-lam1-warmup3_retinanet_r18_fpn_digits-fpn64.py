_base_ = ('../../../../configs/digits/'
          'sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits.py')
# A control of sssd-decoupled-lam1-warmup3-adl_*-fpn64.py (the 2200
# probe): the Jensen-Shannon feature pull alone, ADL's logit term left
# out, on the wider student (FPN and head 64 channels, label teacher at
# the FPN's width). Pre-registered in ../preregistration_2300.md.
model = dict(
    detector=dict(
        neck=dict(out_channels=64),
        bbox_head=dict(in_channels=64, feat_channels=64)),
    teacher=dict(feat_channels=64))
