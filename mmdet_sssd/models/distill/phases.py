# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The distiller's training phases (distillation warm-up and cool-down,
backbone freeze), read from the runner's iteration or epoch in
``MessageHub``, so a resumed run enters them exactly as an uninterrupted
one. lambda, the other schedule, is a function of the same counters and
the LR (:class:`AdaptiveDistillCoefHook`)."""
from mmengine.logging import MessageHub


def _step(by_epoch: bool) -> int:
    hub = MessageHub.get_current_instance()
    return hub.get_info('epoch' if by_epoch else 'iter', 0)


def in_first(steps: int, by_epoch: bool = False) -> bool:
    """Whether the training is within its first ``steps``."""
    return steps > 0 and _step(by_epoch) < steps


def in_last(steps: int, by_epoch: bool = False) -> bool:
    """Whether the training is within its last ``steps``."""
    total = MessageHub.get_current_instance().get_info(
        'max_epochs' if by_epoch else 'max_iters')
    return (steps > 0 and total is not None
            and _step(by_epoch) >= total - steps)
