# The plugin's runtime pieces, shared by the distilling configs of
# configs/{sssd,ssim,adl,digits,toy}/ (and, through them, lgd/, sssd-lite/
# and sad/): list it after the stock mmdet base, `_base_ = ['mmdet::...',
# ..., '../_base_/sssd_runtime.py']`.
#
# lambda's rule is chosen here, once. mmengine merges a list whole, so a
# config that wants LGD's constant lambda takes the other named list in
# one line:
#     custom_hooks = _base_.constant_lambda_hooks
#
# Not here: `default_hooks = dict(checkpoint=dict(
# type='CrashSafeCheckpointHook'))`. mmdet's default_runtime.py already
# defines `default_hooks`, and mmengine refuses a key that two bases of one
# `_base_` list define ("Duplicate key is not allowed among bases"), so each
# config sets that one line itself, merged into mmdet's default_hooks.
custom_imports = dict(imports=['mmdet_sssd'], allow_failed_imports=False)


def _with_rule(rule):
    return [
        dict(type='AdaptiveDistillCoefHook', rule=rule),
        dict(type='EpochSeedHook'),  # exact resume of the random streams
        dict(type='TrainDataCheckHook')  # bad annotations: error or report
    ]


# SSSD: lambda x2 once, at the first LR decay
stepwise_lambda_hooks = _with_rule('step')
# LGD, SSIM, ADL: lambda constant
constant_lambda_hooks = _with_rule('constant')
custom_hooks = stepwise_lambda_hooks
