_base_ = '../sssd/sssd_fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py'

# SSSD with the cheaper teacher of this plugin (docs/lgd_fidelity.md):
# 64-wide teacher convs without LGD's spatial transformers, a 1x1
# adapter; the loss, coefficient and recipe of configs/sssd/.
model = dict(teacher=dict(preset='lite'), adapter=dict(kernel_size=1))
