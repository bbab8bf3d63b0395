# The recommended SSSD on the wider student of
# retinanet_r18_fpn_digits-fpn64.py (FPN and head 64 channels wide), its
# label teacher at the FPN's width as the recommended config has it (64,
# not 32); nothing else changed: the wider sssd-decoupled-lam1-warmup3
# plus ADL's logit term, as the stock *-adl config adds it to *-warmup3.
# Trained with `tools/digits_benchmark.py --layout coco` (the 192-pixel
# Resize).
_base_ = './sssd-decoupled-lam1-warmup3_retinanet_r18_fpn_digits-fpn64.py'

model = dict(logit_distill_loss=dict(type='AdaptiveDistillLoss'))
