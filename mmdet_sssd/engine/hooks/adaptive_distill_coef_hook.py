# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import List, Optional, Sequence

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim.scheduler import LinearLR, MultiStepLR
from mmengine.optim.scheduler.param_scheduler import ConstantParamScheduler

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class AdaptiveDistillCoefHook(Hook):
    """Sets the distillation coefficient lambda of a distiller every iteration
    ("stepwise" in SSSD), logs it as ``distill_coef``, and sets the
    distiller's training phase (its ``distill_warmup`` and
    ``backbone_freeze``, :mod:`mmdet_sssd.models.distill.phases`): the
    whole schedule in one place.

    Rules:

    - ``'step'``: lambda is ``base_coef`` and is multiplied by ``gamma`` at
      milestones. The milestones default to those of the LR scheduler (the
      first ``MultiStepLR`` of ``param_scheduler``), in its units, so lambda
      changes exactly when the LR decays. ``step_at`` says at which:

      - ``'first_milestone'`` (default; SSSD's reading): once, at the first
        one, ``lambda = base_coef * gamma`` from there on. The SSSD paper
        changes lambda once, at LGD's first LR decay (120k of 180k
        iterations), "to sustain distillation impact during LR decay".
      - ``'every_milestone'`` (this hook's former behaviour):
        ``lambda = base_coef * gamma ** (milestones passed)``.
    - ``'inverse_lr'``: ``lambda = min(base_coef * (lr0 / lr) ** power,
      max_coef)`` with lr0 the initial LR of the first param group; during
      the LR warm-up (``LinearLR`` or ``ConstantLR`` schedulers that raise
      the LR) lambda is ``base_coef``.
    - ``'constant'``: ``lambda = base_coef``.

    lambda and the phase are functions of the iteration, epoch and scheduled
    LR only, so a resumed run gets exactly the values of an uninterrupted
    one.

    Args:
        rule (str): ``'step'``, ``'inverse_lr'`` or ``'constant'``.
            Defaults to ``'step'``.
        base_coef (float, optional): lambda at the start. Defaults to None:
            the distiller's ``distill_coef`` (``model.distill_coef``, 1.0
            unless set), so setting either one works.
        milestones (Sequence[int], optional): Steps where lambda may be
            multiplied by ``gamma`` (``'step'``). Defaults to the LR
            scheduler's. Several explicit milestones need an explicit
            ``step_at``: before ``step_at`` existed, lambda changed at each.
        gamma (float): The factor lambda is multiplied by at a milestone
            (``'step'``). Defaults to 2.0.
        by_epoch (bool, optional): Units of ``milestones``; with the
            scheduler's milestones, its own units. Defaults to None, which
            means epochs for epoch-based training loops.
        power (float): Exponent of ``'inverse_lr'``. Defaults to 1.0.
        max_coef (float): Cap of ``'inverse_lr'``. Defaults to 10.0.
        step_at (str, optional): ``'first_milestone'`` or
            ``'every_milestone'`` (``'step'``), see above. Defaults to None:
            ``'first_milestone'``, except that several explicit
            ``milestones`` without ``step_at`` are an error.
    """

    priority = 'NORMAL'
    RULES = ('step', 'inverse_lr', 'constant')
    STEP_AT = ('first_milestone', 'every_milestone')

    def __init__(self,
                 rule: str = 'step',
                 base_coef: Optional[float] = None,
                 milestones: Optional[Sequence[int]] = None,
                 gamma: float = 2.0,
                 by_epoch: Optional[bool] = None,
                 power: float = 1.0,
                 max_coef: float = 10.0,
                 step_at: Optional[str] = None) -> None:
        if rule not in self.RULES:
            raise ValueError(f'AdaptiveDistillCoefHook: rule must be one of '
                             f'{self.RULES}, got {rule!r}')
        self._check(base_coef, gamma, max_coef)
        if milestones is not None and list(milestones) != sorted(milestones):
            raise ValueError(f'AdaptiveDistillCoefHook: milestones must be '
                             f'increasing, got {list(milestones)}')
        if step_at is not None and step_at not in self.STEP_AT:
            raise ValueError(f'AdaptiveDistillCoefHook: step_at must be one '
                             f'of {self.STEP_AT}, got {step_at!r}')
        if (rule == 'step' and step_at is None and milestones is not None
                and len(milestones) > 1):
            raise ValueError(
                f'AdaptiveDistillCoefHook: milestones={list(milestones)} '
                f'without step_at: lambda now changes only at the first '
                f'milestone by default (SSSD); set '
                f'step_at="every_milestone" to multiply it by gamma at each '
                f'one (the former behaviour) or step_at="first_milestone"')
        self.rule = rule
        self.base_coef = base_coef
        self.milestones: Optional[List[int]] = (
            None if milestones is None else list(milestones))
        self.gamma = gamma
        self.by_epoch = by_epoch
        self.power = power
        self.max_coef = max_coef
        self.step_at = 'first_milestone' if step_at is None else step_at
        self._warmup_ends: List[tuple] = []

    @staticmethod
    def _check(base_coef: Optional[float], gamma: float,
               max_coef: float) -> None:
        if (base_coef is not None and
                (base_coef < 0 or max_coef < base_coef)) or gamma < 0:
            raise ValueError(
                f'AdaptiveDistillCoefHook: need base_coef >= 0, gamma >= 0 '
                f'and max_coef >= base_coef, got base_coef={base_coef}, '
                f'gamma={gamma}, max_coef={max_coef}')

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

    @staticmethod
    def _schedulers(runner) -> list:
        schedulers = runner.param_schedulers or []
        if isinstance(schedulers, dict):  # one list per optimizer
            schedulers = next(iter(schedulers.values()), [])
        return [s for s in schedulers if s.param_name == 'lr']

    def before_run(self, runner) -> None:
        model = self._distiller(runner)
        if self.base_coef is None:
            self.base_coef = float(model.distill_coef)
            self._check(self.base_coef, self.gamma, self.max_coef)

    def before_train(self, runner) -> None:
        schedulers = self._schedulers(runner)
        if self.rule == 'step' and self.milestones is None:
            steps = [s for s in schedulers if isinstance(s, MultiStepLR)]
            if not steps:
                raise ValueError(
                    'AdaptiveDistillCoefHook(rule="step") found no MultiStepLR '
                    'in param_scheduler to take milestones from; give '
                    'milestones=[...] or use rule="inverse_lr"')
            s = steps[0]
            # Milestones at or past the scheduler's end never decay the LR.
            self.milestones = sorted(s.begin + m for m in s.milestones
                                     if s.begin + m < s.end)
            self.by_epoch = s.by_epoch
        if self.by_epoch is None:
            self.by_epoch = runner.train_loop.__class__.__name__ == \
                'EpochBasedTrainLoop'
        # Warm-ups raise the LR: LinearLR/ConstantLR starting below 1.
        self._warmup_ends = [
            (s.end, s.by_epoch) for s in schedulers
            if (isinstance(s, LinearLR) and s.start_factor < s.end_factor) or
            (isinstance(s, ConstantParamScheduler) and s.factor < 1)
        ]

    def coef(self, runner) -> float:
        """lambda for the current iteration."""
        if self.rule == 'constant':
            return self.base_coef
        if self.rule == 'step':
            step = runner.epoch if self.by_epoch else runner.iter
            passed = sum(step >= m for m in self.milestones)
            if self.step_at == 'first_milestone':
                passed = min(passed, 1)
            return self.base_coef * self.gamma**passed
        if any((runner.epoch if by_epoch else runner.iter) < end
               for end, by_epoch in self._warmup_ends):
            return self.base_coef
        group = runner.optim_wrapper.optimizer.param_groups[0]
        ratio = group.get('initial_lr', group['lr']) / max(group['lr'], 1e-12)
        return min(self.base_coef * ratio**self.power, self.max_coef)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        coef = self.coef(runner)
        model = self._distiller(runner)
        model.distill_coef = coef
        if hasattr(model, 'phases'):
            model.phase = model.phases.at(runner.iter, runner.epoch)
        runner.message_hub.update_scalar('train/distill_coef', coef)
