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

    ``base`` is ``KL`` (the paper) or the alpha-weighted binary
    cross-entropy ``-2 (alpha q log p + (1 - alpha) (1 - q) log(1 - p))``
    (the reference code; equal to ``KL + H(q)`` for alpha = 0.5). Computed
    in fp32 from log-sigmoids, finite for any logits.

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
    return -2 * focus * (alpha * q * log_p + (1 - alpha) * (1 - q) * log_1p)


@MODELS.register_module()
class AdaptiveDistillLoss(nn.Module):
    """Adaptive Distillation Loss (ADL) for sigmoid classification logits.

    Tang et al., "Learning Efficient Detector with Semi-supervised Adaptive
    Distillation" (2019). The elementwise loss
    (:func:`adaptive_distill_terms`) focuses on the anchors and classes where
    student and teacher disagree (KL) or the teacher is unsure (entropy);
    the sum is divided by ``max(sum q^norm_power, 1)`` (the released
    configs: 1.8), like the number of positives in the focal loss. The
    teacher side is detached.

    Args:
        alpha (float): Weight of the positive part of the ``'bce'`` base.
            Defaults to 0.5.
        beta (float): Weight of the teacher's entropy in the focus.
            Defaults to 1.0.
        gamma (float): Focus exponent. Defaults to 2.0.
        temperature (float): Logits are divided by it. Defaults to 1.0.
        base (str): ``'kl'`` (default) or ``'bce'``.
        norm_power (float, optional): Normaliser ``max(sum q^norm_power,
            1)``; None averages over all elements instead. Defaults to 1.8.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 alpha: float = 0.5,
                 beta: float = 1.0,
                 gamma: float = 2.0,
                 temperature: float = 1.0,
                 base: str = 'kl',
                 norm_power: Optional[float] = 1.8,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if base not in ('kl', 'bce'):
            raise ValueError(f"AdaptiveDistillLoss: base must be 'kl' or "
                             f"'bce', got {base!r}")
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
        self.norm_power = norm_power
        self.loss_weight = loss_weight

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Student classification logits, any shape, e.g.
                (N, A * K, H, W) of one level or all levels flattened.
            target (Tensor): Teacher logits of the same shape; detached.
            weight (Tensor, optional): Elementwise weight.

        Returns:
            Tensor: The loss.
        """
        if pred.shape != target.shape:
            raise ValueError(
                f'AdaptiveDistillLoss: student and teacher logits must have '
                f'the same shape (same anchors and classes), got '
                f'{tuple(pred.shape)} and {tuple(target.shape)}')
        target = target.detach()
        loss = adaptive_distill_terms(pred, target, self.alpha, self.beta,
                                      self.gamma, self.temperature, self.base)
        if self.norm_power is None:
            return self.loss_weight * weight_reduce_loss(loss, weight, 'mean')
        q = torch.sigmoid(target.float() / self.temperature)
        norm = q.pow(self.norm_power).sum().clamp(min=1.0)
        return self.loss_weight * weight_reduce_loss(
            loss, weight, 'mean', avg_factor=norm)
