_base_ = './sssd-published_retinanet_r18_fpn_digits.py'

# LGD as its reference trains it (configs/lgd/), scaled to the digits
# student like sssd-published_*: the squared error of the instance-normed
# maps as ONE mean over all levels' elements (level_weights='size'), and a
# constant lambda.
model = dict(
    distill_loss=dict(_delete_=True, type='MSELoss'),
    level_weights='size')
custom_hooks = _base_.constant_lambda_hooks
