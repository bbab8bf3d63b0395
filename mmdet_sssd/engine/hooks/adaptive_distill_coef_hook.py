# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim.scheduler import MultiStepLR

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class AdaptiveDistillCoefHook(Hook):
    """Sets the distillation coefficient lambda of a distiller every iteration
    ("stepwise" in SSSD), logs it as ``distill_coef``, and sets the
    distiller's training phase (its ``distill_warmup``,
    ``backbone_freeze``, ``distill_interval`` and ``distill_ramp``, by which
    the lambda of the rule below rises after the warm-up,
    :mod:`mmdet_sssd.models.distill.phases`): the whole schedule in one
    place.

    Rules:

    - ``'step'`` (SSSD): lambda is ``base_coef`` and becomes ``base_coef *
      gamma`` at ``milestone``, once. The milestone defaults to the LR
      scheduler's first decay (the first milestone of the first
      ``MultiStepLR`` of ``param_scheduler``, in its units): the SSSD paper
      changes lambda once, at LGD's first LR decay (120k of 180k
      iterations), "to sustain distillation impact during LR decay".
    - ``'constant'`` (LGD): ``lambda = base_coef``.

    lambda and the phase are functions of the iteration and epoch only, so
    a resumed run gets exactly the values of an uninterrupted one.

    Args:
        rule (str): ``'step'`` or ``'constant'``. Defaults to ``'step'``.
        base_coef (float, optional): lambda at the start. Defaults to None:
            the distiller's ``distill_coef`` (``model.distill_coef``, 1.0
            unless set), so setting either one works.
        milestone (int, optional): Step where lambda is multiplied by
            ``gamma`` (``'step'``). Defaults to the LR scheduler's first
            decay.
        gamma (float): The factor of ``'step'``. Defaults to 2.0.
        by_epoch (bool, optional): Units of ``milestone``; with the
            scheduler's milestone, its own units. Defaults to None, which
            means epochs for epoch-based training loops.
    """

    priority = 'NORMAL'
    RULES = ('step', 'constant')

    def __init__(self,
                 rule: str = 'step',
                 base_coef: Optional[float] = None,
                 milestone: Optional[int] = None,
                 gamma: float = 2.0,
                 by_epoch: Optional[bool] = None) -> None:
        if rule not in self.RULES:
            raise ValueError(f'AdaptiveDistillCoefHook: rule must be one of '
                             f'{self.RULES}, got {rule!r}')
        self._check(base_coef, gamma)
        self.rule = rule
        self.base_coef = base_coef
        self.milestone = milestone
        self.gamma = gamma
        self.by_epoch = by_epoch

    @staticmethod
    def _check(base_coef: Optional[float], gamma: float) -> None:
        if (base_coef is not None and base_coef < 0) or gamma < 0:
            raise ValueError(
                f'AdaptiveDistillCoefHook: need base_coef >= 0 and gamma >= '
                f'0, got base_coef={base_coef}, gamma={gamma}')

    @staticmethod
    def _distiller(runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if not hasattr(model, 'distill_coef'):
            raise TypeError(
                f'AdaptiveDistillCoefHook needs a distiller model (e.g. '
                f'SSSDDistiller) with a `distill_coef`, got '
                f'{type(model).__name__}; wrap the detector in '
                f'model=dict(type="SSSDDistiller", detector=...) or remove '
                f'the hook')
        return model

    def before_run(self, runner) -> None:
        model = self._distiller(runner)
        interval = getattr(getattr(model, 'phases', None), 'interval', 1)
        if interval > 1 and getattr(runner.model, 'find_unused_parameters',
                                    True) is False:
            # the teachers get no gradient in the iterations they skip
            raise ValueError(
                f'SSSDDistiller(distill_interval={interval}) under DDP '
                f'needs find_unused_parameters=True: the teachers and '
                f'adapters get no gradient in the iterations without '
                f'distillation; set find_unused_parameters = True in the '
                f'config')
        if self.base_coef is None:
            self.base_coef = float(model.distill_coef)
            self._check(self.base_coef, self.gamma)

    def before_train(self, runner) -> None:
        if self.rule == 'step' and self.milestone is None:
            schedulers = runner.param_schedulers or []
            if isinstance(schedulers, dict):  # one list per optimizer
                schedulers = next(iter(schedulers.values()), [])
            steps = [s for s in schedulers if isinstance(s, MultiStepLR)
                     and s.param_name == 'lr']
            if not steps:
                raise ValueError(
                    'AdaptiveDistillCoefHook(rule="step") found no '
                    'MultiStepLR in param_scheduler to step lambda at its '
                    'first LR decay; give milestone=... or use '
                    'rule="constant"')
            # milestones at or past the scheduler's end never decay the LR,
            # nor lambda (a schedule without a decay keeps base_coef)
            decays = sorted(steps[0].begin + m for m in steps[0].milestones
                            if steps[0].begin + m < steps[0].end)
            self.milestone = decays[0] if decays else math.inf
            self.by_epoch = steps[0].by_epoch
        if self.by_epoch is None:
            self.by_epoch = runner.train_loop.__class__.__name__ == \
                'EpochBasedTrainLoop'

    def coef(self, runner) -> float:
        """lambda for the current iteration."""
        if self.rule == 'constant':
            return self.base_coef
        step = runner.epoch if self.by_epoch else runner.iter
        return self.base_coef * (self.gamma if step >= self.milestone else 1.)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        coef = self.coef(runner)
        model = self._distiller(runner)
        if hasattr(model, 'phases'):
            model.phase = model.phases.at(runner.iter, runner.epoch)
            coef *= model.phase.ramp  # the distiller's distill_ramp
        model.distill_coef = coef
        runner.message_hub.update_scalar('train/distill_coef', coef)
