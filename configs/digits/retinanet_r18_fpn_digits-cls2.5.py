# A no-teacher control of sssd-decoupled-lam1-warmup3-adl_*: the baseline
# with its classification (focal) loss weighted 2.5. Does the ADL term help
# through what the teacher's scores say, or only by pushing harder on the
# classification? 2.5 matches the extra push: on the ADL run's final
# checkpoint (seed 100) the ADL term's gradient on the FPN maps is 1.73x the
# focal loss's at cosine +0.73 (tools/analysis_tools/distill_grad_scale.py
# with loss_bbox weight 0), a component of 1.26 along it per unit of
# lambda, and lambda averages 1.17 over that run (0 in the 3 warm-up
# epochs, 1, then 2 after epoch 12): 1 + 1.26 x 1.17 = 2.5.
# Pre-registered in docs/benchmarks/digits/preregistration_1600.md.
_base_ = './retinanet_r18_fpn_digits.py'

model = dict(bbox_head=dict(loss_cls=dict(loss_weight=2.5)))
