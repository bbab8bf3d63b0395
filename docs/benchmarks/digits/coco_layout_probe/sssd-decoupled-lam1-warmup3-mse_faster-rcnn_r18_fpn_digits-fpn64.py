# The 3900 arm (sssd-decoupled-lam1-warmup3_faster-rcnn_*) with LGD's
# squared error of the instance-normed maps in place of the Jensen-Shannon
# distance, one change: the levels still weigh alike (the mean of the
# levels' losses, as the 3900 arm; LGD's one mean over all elements would
# weigh the finest level most), at the same lambda 1, x2 at the first LR
# decay, and warm-up. At the end of the 4000 probe's training the JS pull's
# gradient on the maps was 0.29x the detection loss's, this one's 7.0x
# (distill_grad_scale.py): the same teacher, a pull about 24 times as hard.
# Pre-registered in docs/benchmarks/digits/preregistration_4100.md.
_base_ = './sssd-decoupled-lam1-warmup3_faster-rcnn_r18_fpn_digits-fpn64.py'

model = dict(distill_loss=dict(_delete_=True, type='MSELoss'))
