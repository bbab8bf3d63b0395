# The plugin's runtime pieces, shared by the distilling configs of
# configs/{sssd,ssim,adl,toy}/ (and, through them, lgd/ and sssd-lite/):
# list it after the stock mmdet base, `_base_ = ['mmdet::...', ...,
# '../_base_/sssd_runtime.py']`. A config that needs another hooks list
# (LGD's constant lambda: rule='constant') sets `custom_hooks` whole.
#
# Not here: `default_hooks = dict(checkpoint=dict(
# type='CrashSafeCheckpointHook'))`. mmdet's default_runtime.py already
# defines `default_hooks`, and mmengine refuses a key that two bases of one
# `_base_` list define ("Duplicate key is not allowed among bases"), so each
# config sets that one line itself, merged into mmdet's default_hooks.
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)
custom_hooks = [
    dict(type='AdaptiveDistillCoefHook'),  # x2 at the first LR decay
    dict(type='EpochSeedHook'),  # exact resume of the random streams
    dict(type='TrainDataCheckHook')  # bad annotations: error or report
]
