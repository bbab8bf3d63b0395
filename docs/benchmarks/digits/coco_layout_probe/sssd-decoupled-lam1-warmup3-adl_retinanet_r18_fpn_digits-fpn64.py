_base_ = ('../../../../configs/digits/'
          'sssd-decoupled-lam1-warmup3-adl_retinanet_r18_fpn_digits.py')
# The recommended SSSD on the wider student of
# retinanet_r18_fpn_digits-fpn64.py (FPN and head 64 channels wide), its
# label teacher at the FPN's width as the recommended config has it (64,
# not 32); nothing else changed. Trained with
# `tools/digits_benchmark.py --layout coco` (the 192-pixel Resize).
model = dict(
    detector=dict(
        neck=dict(out_channels=64),
        bbox_head=dict(in_channels=64, feat_channels=64)),
    teacher=dict(feat_channels=64))
