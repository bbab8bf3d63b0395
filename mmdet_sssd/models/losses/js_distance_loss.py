# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weighted_loss
from mmdet.registry import MODELS
from torch import Tensor

LOG2 = math.log(2.0)


def js_terms(pred: Tensor, target: Tensor, dim: int,
             tau: float = 1.0) -> Tensor:
    """Pointwise terms of the Jensen-Shannon divergence between
    ``softmax(pred / tau)`` and ``softmax(target / tau)`` along ``dim``;
    their sum along ``dim`` is ``D_JS``. Same shape as the inputs, fp32."""
    # fp32 even under AMP: the log-probabilities of large maps underflow.
    log_p = F.log_softmax(pred.float() / tau, dim=dim)
    log_q = F.log_softmax(target.float() / tau, dim=dim)
    # log M = log((P + Q) / 2), stable for tiny probabilities.
    log_m = torch.logaddexp(log_p, log_q) - LOG2
    return 0.5 * (log_p.exp() * (log_p - log_m) + log_q.exp() *
                  (log_q - log_m))


@weighted_loss
def js_distance(pred: Tensor,
                target: Tensor,
                axis: str = 'spatial',
                tau: float = 1.0,
                eps: float = 1e-8) -> Tensor:
    """Jensen-Shannon distance between softmax distributions of two maps.

    Args:
        pred (Tensor): Student maps, shape (N, C, H, W).
        target (Tensor): Teacher maps, shape (N, C, H, W). Not detached here.
        axis (str): ``'spatial'``: one distribution per channel over the H*W
            locations; ``'channel'``: one per location over the C channels.
        tau (float): Softmax temperature.
        eps (float): Added under the square root, whose derivative is
            infinite at 0 (identical inputs).

    Returns:
        Tensor: ``sqrt(D_JS + eps)``, in ``[0, sqrt(ln 2 + eps)]``; shape
        (N, C) for ``'spatial'``, (N, H, W) for ``'channel'``.
    """
    if axis == 'spatial':
        pred, target, dim = pred.flatten(2), target.flatten(2), 2
    else:
        dim = 1
    # rounding can take the sum slightly below 0
    js = js_terms(pred, target, dim, tau).sum(dim).clamp(min=0.0)
    return torch.sqrt(js + eps)


@MODELS.register_module()
class JSDistanceLoss(nn.Module):
    """Jensen-Shannon distance loss of SSSD.

    ``loss = loss_weight * reduce(sqrt(D_JS(P || Q) + eps))`` with P and Q
    softmax distributions of the student and (always detached) teacher maps,
    ``D_JS(P||Q) = KL(P||M) / 2 + KL(Q||M) / 2`` and ``M = (P + Q) / 2``. The
    distance is bounded by ``sqrt(ln 2)``, which keeps the distillation
    gradient smooth when the teacher is still poor.

    Args:
        axis (str): ``'spatial'`` (default; one distribution per channel over
            H*W, as in channel-wise distillation) or ``'channel'`` (one per
            location over C).
        tau (float): Softmax temperature. Defaults to 1.0.
        eps (float): Stabiliser under the square root. Defaults to 1e-8.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over the
            distances of one level: (N, C) or (N, H, W). Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 axis: str = 'spatial',
                 tau: float = 1.0,
                 eps: float = 1e-8,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if axis not in ('spatial', 'channel'):
            raise ValueError(f"JSDistanceLoss: axis must be 'spatial' or "
                             f"'channel', got {axis!r}")
        if not tau > 0:
            raise ValueError(f'JSDistanceLoss: tau must be > 0, got {tau}')
        if not eps > 0:
            raise ValueError(f'JSDistanceLoss: eps must be > 0 (the square '
                             f'root is not differentiable at 0), got {eps}')
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"JSDistanceLoss: reduction must be 'none', "
                             f"'mean' or 'sum', got {reduction!r}")
        self.axis = axis
        self.tau = tau
        self.eps = eps
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Forward function.

        Args:
            pred (Tensor): Student maps, shape (N, C, H, W).
            target (Tensor): Teacher maps, shape (N, C, H, W); detached.
            weight (Tensor, optional): Weight of each distance, broadcastable
                to (N, C) for ``'spatial'`` or (N, H, W) for ``'channel'``.
            avg_factor (float, optional): Average factor of the mean.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The loss.
        """
        if pred.shape != target.shape or pred.dim() != 4:
            raise ValueError(
                f'JSDistanceLoss: student and teacher maps must both be '
                f'(N, C, H, W) of the same shape, got {tuple(pred.shape)} '
                f'and {tuple(target.shape)}')
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        return self.loss_weight * js_distance(
            pred,
            target.detach(),
            weight,
            reduction=reduction,
            avg_factor=avg_factor,
            axis=self.axis,
            tau=self.tau,
            eps=self.eps)
