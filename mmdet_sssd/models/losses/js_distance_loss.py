# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weighted_loss
from mmdet.registry import MODELS
from torch import Tensor

from .map_distill_loss import MapDistillLoss

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


def _divergence(pred: Tensor, target: Tensor, axis: str,
                tau: float) -> Tensor:
    """``D_JS`` of each distribution: (N, C) for ``'spatial'``, (N, H, W)
    for ``'channel'``; fp32, >= 0."""
    if axis == 'spatial':
        pred, target, dim = pred.flatten(2), target.flatten(2), 2
    else:
        dim = 1
    # rounding can take the sum slightly below 0
    return js_terms(pred, target, dim, tau).sum(dim).clamp(min=0.0)


@weighted_loss
def js_divergence(pred: Tensor,
                  target: Tensor,
                  axis: str = 'spatial',
                  tau: float = 1.0) -> Tensor:
    """Jensen-Shannon divergence between softmax distributions of two maps.

    Args:
        pred (Tensor): Student maps, shape (N, C, H, W).
        target (Tensor): Teacher maps, shape (N, C, H, W). Not detached here.
        axis (str): ``'spatial'``: one distribution per channel over the H*W
            locations; ``'channel'``: one per location over the C channels.
        tau (float): Softmax temperature.

    Returns:
        Tensor: ``D_JS``, in ``[0, ln 2]``; shape (N, C) for ``'spatial'``,
        (N, H, W) for ``'channel'``.
    """
    return _divergence(pred, target, axis, tau)


@weighted_loss
def js_distance(pred: Tensor,
                target: Tensor,
                axis: str = 'spatial',
                tau: float = 1.0,
                eps: float = 1e-8) -> Tensor:
    """Jensen-Shannon distance between softmax distributions of two maps,
    one square root per distribution.

    Args:
        pred, target, axis, tau: As in :func:`js_divergence`.
        eps (float): Added under the square root, whose derivative is
            infinite at 0 (identical inputs).

    Returns:
        Tensor: ``sqrt(D_JS + eps)``, in ``[0, sqrt(ln 2 + eps)]``; shape
        (N, C) for ``'spatial'``, (N, H, W) for ``'channel'``.
    """
    return torch.sqrt(_divergence(pred, target, axis, tau) + eps)


@MODELS.register_module()
class JSDistanceLoss(MapDistillLoss):
    """Jensen-Shannon distance loss of SSSD.

    For one FPN level, with student maps ``S`` and teacher maps ``T`` of
    shape (N, C, H, W) (in :class:`SSSDDistiller`: ``S = IN(adapter(S_p))``
    and ``T = IN(sg(T_p))``, IN the non-affine instance norm), the
    distributions are, for ``axis='spatial'`` (default),
    ``k[n, c] = softmax(S[n, c] / tau)`` over the H*W locations of image n
    and channel c, and ``k_e[n, c]`` the same of ``T`` (always detached);
    for ``axis='channel'``, ``k[n, :, y, x] = softmax(S[n, :, y, x] / tau)``
    over the C channels of each location. With
    ``D_JS(P||Q) = KL(P||M) / 2 + KL(Q||M) / 2``, ``M = (P + Q) / 2``,
    computed in fp32, the divergences ``D`` of one level are (N, C)
    (``'spatial'``) or (N, H, W) (``'channel'``), each in ``[0, ln 2]``.

    Where the square root is taken (``sqrt_per``):

    - ``'distribution'`` (default; the behaviour before this option): one
      root per distribution, then the reduction::

          loss = loss_weight * reduce(sqrt(D + eps))

      ``reduction='none'`` returns the (N, C) or (N, H, W) distances.
    - ``'level'`` (the SSSD paper's ``(1/N) sum_p sqrt(D_JS(k^p || k_e^p))``
      read literally, with the per-level mean taken inside the root): one
      root per call, i.e. per level, of the level's reduced divergence::

          loss = loss_weight * sqrt(reduce(D) + eps)

      ``reduce`` is the mean over images and channels (or locations) by
      default, ``'sum'`` the sum; ``weight`` and ``avg_factor`` act on ``D``
      under the root. ``reduction='none'`` is an error: there is no
      per-distribution value of a per-level root.

    The distiller averages the per-level values over levels. With the
    (unweighted) mean, both forms lie in ``[0, sqrt(ln 2 + eps)]``, which
    keeps the distillation gradient smooth when the teacher is still poor,
    and by concavity of the root ``'level'`` is never smaller than
    ``'distribution'`` on the same maps.

    Args:
        axis (str): ``'spatial'`` (default; one distribution per channel over
            H*W, as in channel-wise distillation) or ``'channel'`` (one per
            location over C).
        tau (float): Softmax temperature. Defaults to 1.0.
        eps (float): Stabiliser under the square root. Defaults to 1e-8.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over the
            (N, C) or (N, H, W) values of one level: the distances for
            ``sqrt_per='distribution'``, the divergences under the root for
            ``'level'`` (which rejects ``'none'``). Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
        sqrt_per (str): ``'distribution'`` (default) or ``'level'``, see
            above.
    """

    SQRT_PER = ('distribution', 'level')

    _no_none_msg = ("JSDistanceLoss: sqrt_per='level' takes one root of the "
                    "level's reduced divergence, reduction='none' has no "
                    "value per distribution; use reduction='mean' or 'sum', "
                    "or sqrt_per='distribution'")

    def __init__(self,
                 axis: str = 'spatial',
                 tau: float = 1.0,
                 eps: float = 1e-8,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 sqrt_per: str = 'distribution') -> None:
        super().__init__(reduction, loss_weight)
        if axis not in ('spatial', 'channel'):
            raise ValueError(f"JSDistanceLoss: axis must be 'spatial' or "
                             f"'channel', got {axis!r}")
        if not tau > 0:
            raise ValueError(f'JSDistanceLoss: tau must be > 0, got {tau}')
        if not eps > 0:
            raise ValueError(f'JSDistanceLoss: eps must be > 0 (the square '
                             f'root is not differentiable at 0), got {eps}')
        if sqrt_per not in self.SQRT_PER:
            raise ValueError(f"JSDistanceLoss: sqrt_per must be "
                             f"'distribution' (one root per distribution) or "
                             f"'level' (one root per level, the paper's "
                             f"formula), got {sqrt_per!r}")
        if sqrt_per == 'level' and reduction == 'none':
            raise ValueError(self._no_none_msg)
        self.axis = axis
        self.tau = tau
        self.eps = eps
        self.sqrt_per = sqrt_per

    def distance(self, pred: Tensor, target: Tensor,
                 weight: Optional[Tensor], reduction: str,
                 avg_factor: Optional[float]) -> Tensor:
        """The reduced distances (or, for ``sqrt_per='level'``, the root of
        the reduced divergences); ``weight`` broadcastable to (N, C) for
        ``'spatial'`` or (N, H, W) for ``'channel'``; (N, C) / (N, H, W)
        for ``reduction='none'`` with ``sqrt_per='distribution'``."""
        if self.sqrt_per == 'level':
            if reduction == 'none':
                raise ValueError(self._no_none_msg)
            divergence = js_divergence(
                pred, target, weight, reduction=reduction,
                avg_factor=avg_factor, axis=self.axis, tau=self.tau)
            return torch.sqrt(divergence.clamp(min=0.0) + self.eps)
        return js_distance(
            pred, target, weight, reduction=reduction, avg_factor=avg_factor,
            axis=self.axis, tau=self.tau, eps=self.eps)
