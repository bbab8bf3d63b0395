# SSSD on the toy RetinaNet: any stock detector wrapped; the plugin's import
# and hooks from ../_base_/sssd_runtime.py.
_base_ = ['./retinanet_r18-tiny_fpn_toy.py', '../_base_/sssd_runtime.py']

model = dict(_delete_=True, type='SSSDDistiller', detector=_base_.model)
# Opt-in: atomic checkpoint writes; --resume skips a truncated checkpoint.
# Set here, not in sssd_runtime.py: the stock base defines default_hooks,
# and mmengine refuses one key in two bases of a list.
default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))
