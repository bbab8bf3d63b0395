# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The distiller's schedule in one place: lambda and the training phases
(distillation warm-up, backbone freeze, the iterations that distil). The
distiller holds
the phase lengths (:class:`DistillPhases`, from its config);
:class:`AdaptiveDistillCoefHook` sets lambda and the :class:`Phase` of every
iteration from the runner's iteration, epoch and LR, so a resumed run enters
them exactly as an uninterrupted one."""
from typing import NamedTuple, Optional, Union


class Phase(NamedTuple):
    """What the current iteration does."""
    #: the student side is detached in the distillation losses (warm-up):
    #: only the adapters learn from them
    detach_student: bool = False
    #: no gradients to the student's backbone
    freeze_backbone: bool = False
    #: the teachers and the distillation losses run; False: the student
    #: trains alone (its detection loss) in this iteration
    distill: bool = True
    #: the share of lambda in this iteration: below 1 while it rises
    #: after the warm-up (``distill_ramp``)
    ramp: float = 1.0


class DistillPhases(NamedTuple):
    """Phase lengths in iterations (epochs if ``by_epoch``);
    ``interval``: the teachers run in one iteration of every ``interval``
    (always counted in iterations), the first one included; ``ramp``:
    after the warm-up, lambda rises linearly over this many iterations
    (epochs) to its full value (``1 / ramp`` of it in the first)."""
    warmup: int = 0
    backbone_freeze: int = 0
    by_epoch: bool = False
    interval: int = 1
    ramp: int = 0

    @property
    def active(self) -> bool:
        return bool(self.warmup or self.backbone_freeze or self.interval > 1
                    or self.ramp)

    def at(self, iteration: int, epoch: int) -> Phase:
        """The phase of an iteration (0-based counters of the runner)."""
        step = epoch if self.by_epoch else iteration
        # in the warm-up only the adapters learn from the terms, at full
        # lambda as without a ramp
        ramp = 1. if not self.ramp or step < self.warmup else min(
            1., (step - self.warmup + 1) / self.ramp)
        return Phase(detach_student=step < self.warmup,
                     freeze_backbone=step < self.backbone_freeze,
                     distill=iteration % self.interval == 0,
                     ramp=ramp)

    def current(self, phase: Optional[Phase]) -> Phase:
        """``phase`` as the hook set it; no phase before the hook ran,
        which is an error if any phase is configured."""
        if phase is None and self.active:
            raise RuntimeError(
                f'SSSDDistiller: {self} need AdaptiveDistillCoefHook, which '
                f'sets lambda and the phases every iteration; add '
                f"custom_hooks=[dict(type='AdaptiveDistillCoefHook')] (or "
                f"inherit configs/_base_/sssd_runtime.py)")
        return phase or Phase()


def teacher_trains_head(setting: Union[bool, str], phase: Phase) -> bool:
    """Whether the teacher's detection losses train the shared head(s) in
    this iteration: ``setting`` (``SSSDDistiller(teacher_trains_head=)``)
    True or False, or ``'warmup'``: while the student side is detached (the
    distillation warm-up)."""
    return phase.detach_student if setting == 'warmup' else setting


def check_head_setting(setting: Union[bool, str], warmup: int) -> None:
    """Build-time check of ``teacher_trains_head``."""
    if setting not in (True, False, 'warmup') or (setting == 'warmup'
                                                  and not warmup):
        raise ValueError(f"SSSDDistiller: teacher_trains_head must be True, "
                         f"False or 'warmup' (with a distill_warmup), got "
                         f"{setting!r}")
