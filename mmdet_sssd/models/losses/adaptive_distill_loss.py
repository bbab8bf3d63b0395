# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from torch import Tensor


def adaptive_distill_terms(pred: Tensor,
                           target: Tensor,
                           alpha: float = 0.5,
                           beta: float = 1.0,
                           gamma: float = 2.0,
                           temperature: float = 1.0,
                           base: str = 'kl') -> Tensor:
    """Elementwise ADL of sigmoid classification logits (Tang et al.).

    With ``p = sigmoid(pred / T)``, ``q = sigmoid(target / T)``::

        KL   = q log(q / p) + (1 - q) log((1 - q) / (1 - p))
        H(q) = -q log q - (1 - q) log(1 - q)
        ADL  = (1 - exp(-(KL + beta * H(q))))^gamma * base

    ``base`` is ``'kl'`` (the paper's ``KL``), ``'alpha_bce'`` (the
    reference code's alpha-weighted binary cross-entropy
    ``-(alpha q log p + (1 - alpha) (1 - q) log(1 - p))``) or ``'bce'``
    (twice that: ``KL + H(q)`` for alpha = 0.5). Computed in fp32 from
    log-sigmoids, finite for any logits.

    Args:
        pred (Tensor): Student logits, any shape.
        target (Tensor): Teacher logits, same shape (not detached here).

    Returns:
        Tensor: Same shape as the inputs.
    """
    s, t = pred.float() / temperature, target.float() / temperature
    log_p, log_1p = F.logsigmoid(s), F.logsigmoid(-s)
    log_q, log_1q = F.logsigmoid(t), F.logsigmoid(-t)
    q = log_q.exp()
    kl = q * (log_q - log_p) + (1 - q) * (log_1q - log_1p)
    kl = kl.clamp(min=0)  # rounding
    entropy = -(q * log_q + (1 - q) * log_1q)
    focus = (1 - torch.exp(-(kl + beta * entropy))).pow(gamma)
    if base == 'kl':
        return focus * kl
    scale = 2 if base == 'bce' else 1
    return -scale * focus * (alpha * q * log_p +
                             (1 - alpha) * (1 - q) * log_1p)


def softmax_adaptive_distill_terms(pred: Tensor,
                                   target: Tensor,
                                   beta: float = 1.0,
                                   gamma: float = 2.0,
                                   temperature: float = 1.0,
                                   base: str = 'kl') -> Tensor:
    """Per-row ADL of softmax classification logits, e.g. a RoI head's
    (R, K + 1) scores (background included).

    The sigmoid formula (:func:`adaptive_distill_terms`) with each row's
    distribution in place of each element's Bernoulli: with
    ``p = softmax(pred / T)``, ``q = softmax(target / T)`` over the last
    axis, ``KL = sum_k q_k log(q_k / p_k)``, ``H(q) = -sum_k q_k log q_k``
    and ``ADL = (1 - exp(-(KL + beta * H(q))))^gamma * base``, ``base``
    ``'kl'`` or ``'bce'`` (the cross-entropy ``-sum_k q_k log p_k``, i.e.
    ``KL + H(q)``). Finite for any finite logits (its gradient too, for
    gamma 0 or >= 1).

    Args:
        pred (Tensor): Student logits (..., C).
        target (Tensor): Teacher logits, same shape (not detached here).

    Returns:
        Tensor: (...), one value per row.
    """
    log_p = F.log_softmax(pred.float() / temperature, dim=-1)
    log_q = F.log_softmax(target.float() / temperature, dim=-1)
    q = log_q.exp()
    kl = (q * (log_q - log_p)).sum(-1).clamp(min=0)  # rounding
    entropy = -(q * log_q).sum(-1)
    focus = (1 - torch.exp(-(kl + beta * entropy))).pow(gamma)
    return focus * (kl if base == 'kl' else kl + entropy)


@MODELS.register_module()
class AdaptiveDistillLoss(nn.Module):
    """Adaptive Distillation Loss (ADL) for classification logits: sigmoid
    (a dense head's, as published) or softmax (a RoI head's, an extension).

    Tang et al., "Learning Efficient Detector with Semi-supervised Adaptive
    Distillation" (2019). The elementwise loss
    (:func:`adaptive_distill_terms`) focuses on the anchors and classes where
    student and teacher disagree (KL) or the teacher is unsure (entropy);
    the sum is divided by ``max(sum q^norm_power, 1)`` (the released
    configs: 1.8), like the number of positives in the focal loss. The
    teacher side is detached.

    The reference code (Tangshitao/Semi-supervised-Adaptive-Distillation)
    is ``base='alpha_bce', temperature_mode='scale_loss'`` with the
    distiller's ``mask_ignored_anchors=True`` (``configs/adl/``); the
    defaults are the paper's formula with the logits divided by T.

    With ``use_sigmoid=False`` (ADL for a softmax classifier such as a RoI
    head's over K classes and the background; not in the paper, which
    distils RetinaNet) each row is one distribution
    (:func:`softmax_adaptive_distill_terms`) and the normaliser is the same
    ``max(sum q^norm_power, 1)`` over all elements: about the number of rows
    where the teacher is sure of one class, the background included.

    Args:
        alpha (float): Weight of the positive part of the BCE bases.
            Defaults to 0.5.
        beta (float): Weight of the teacher's entropy in the focus (the
            paper's convention; the reference code's LOSS_BETA=0 is 1
            here). Defaults to 1.0.
        gamma (float): Focus exponent, 0 or >= 1. Defaults to 2.0.
        temperature (float): T. Defaults to 1.0.
        base (str): ``'kl'`` (default), ``'alpha_bce'`` (reference) or
            ``'bce'`` (2 x ``'alpha_bce'``).
        temperature_mode (str): ``'divide'`` (default): both sides' logits
            are divided by T; ``'scale_loss'`` (reference): logits as they
            are, the loss times T^2.
        norm_power (float, optional): Normaliser ``max(sum q^norm_power,
            1)``; None averages over all elements instead (over the rows
            with ``use_sigmoid=False``). Defaults to 1.8.
        use_sigmoid (bool): Sigmoid logits, one Bernoulli per element
            (default), or softmax logits, one distribution per row of the
            last axis (``base`` ``'kl'`` or ``'bce'``). Defaults to True.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 0.5,
                 beta: float = 1.0,
                 gamma: float = 2.0,
                 temperature: float = 1.0,
                 base: str = 'kl',
                 temperature_mode: str = 'divide',
                 norm_power: Optional[float] = 1.8,
                 use_sigmoid: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if base not in ('kl', 'alpha_bce', 'bce'):
            raise ValueError(f"AdaptiveDistillLoss: base must be 'kl', "
                             f"'alpha_bce' or 'bce', got {base!r}")
        if not use_sigmoid and base == 'alpha_bce':
            raise ValueError("AdaptiveDistillLoss: base='alpha_bce' weighs "
                             "the two sides of a sigmoid; with "
                             "use_sigmoid=False give 'kl' or 'bce'")
        if temperature_mode not in ('divide', 'scale_loss'):
            raise ValueError(f"AdaptiveDistillLoss: temperature_mode must be "
                             f"'divide' or 'scale_loss', got "
                             f"{temperature_mode!r}")
        if 0 < gamma < 1:
            # d/dx x^gamma is infinite at x = 0: where student and a sure
            # teacher agree (KL + beta H = 0) the gradient would be NaN
            raise ValueError(f'AdaptiveDistillLoss: gamma must be 0 or >= 1 '
                             f'(0 < gamma < 1 gives NaN gradients where '
                             f'student and teacher agree), got {gamma}')
        if not temperature > 0 or gamma < 0 or beta < 0 or not 0 <= alpha <= 1:
            raise ValueError(
                f'AdaptiveDistillLoss: need temperature > 0, gamma >= 0, '
                f'beta >= 0, 0 <= alpha <= 1; got temperature={temperature}, '
                f'gamma={gamma}, beta={beta}, alpha={alpha}')
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.temperature = temperature
        self.base = base
        self.temperature_mode = temperature_mode
        self.norm_power = norm_power
        self.use_sigmoid = use_sigmoid
        self.loss_weight = loss_weight

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Student classification logits, any shape, e.g.
                (N, A * K, H, W) of one level or all levels flattened;
                with ``use_sigmoid=False`` (..., C), e.g. a RoI head's
                (R, K + 1).
            target (Tensor): Teacher logits of the same shape; detached.
            weight (Tensor, optional): Elementwise weight of ``pred``'s
                shape (``use_sigmoid=False``: of its shape less the last
                axis, one per row), e.g. the distiller's ignore mask (0 for
                the anchors the assigner ignores). The normaliser is not
                masked, as in the reference.

        Returns:
            Tensor: The loss.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f'AdaptiveDistillLoss: student and teacher logits must have '
                f'the same shape (same anchors and classes), got '
                f'{tuple(pred.shape)} and {tuple(target.shape)}')
        if not self.use_sigmoid and weight is not None and \
                weight.shape != pred.shape[:-1]:
            raise ValueError(
                f'AdaptiveDistillLoss: with use_sigmoid=False the weight is '
                f'one per row, shape {tuple(pred.shape[:-1])}, got '
                f'{tuple(weight.shape)}')
        target = target.detach()
        divide = self.temperature_mode == 'divide'
        temp = self.temperature if divide else 1.0
        scale = self.loss_weight * (1.0 if divide else self.temperature**2)
        if self.use_sigmoid:
            loss = adaptive_distill_terms(pred, target, self.alpha,
                                          self.beta, self.gamma, temp,
                                          self.base)
        else:
            loss = softmax_adaptive_distill_terms(pred, target, self.beta,
                                                  self.gamma, temp,
                                                  self.base)
        if self.norm_power is None:
            return scale * weight_reduce_loss(loss, weight, 'mean')
        q = torch.sigmoid(target.float() / temp) if self.use_sigmoid else \
            torch.softmax(target.float() / temp, dim=-1)
        norm = q.pow(self.norm_power).sum().clamp(min=1.0)
        return scale * weight_reduce_loss(loss, weight, 'mean',
                                          avg_factor=norm)
