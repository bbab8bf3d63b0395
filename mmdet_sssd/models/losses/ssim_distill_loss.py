# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weighted_loss
from mmdet.registry import MODELS
from torch import Tensor


def gaussian_window(size: int, sigma: float, channels: int,
                    device=None) -> Tensor:
    """A (channels, 1, size, size) normalised Gaussian window."""
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-x**2 / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size)


def min_max(x: Tensor, eps: float = 1e-12) -> Tensor:
    """Rescales each (N, C) map to [0, 1]; a constant map becomes 0."""
    flat = x.flatten(2)
    lo = flat.amin(2, keepdim=True)
    hi = flat.amax(2, keepdim=True)
    return ((flat - lo) / (hi - lo).clamp(min=eps)).view_as(x)


@weighted_loss
def ssim_distance(pred: Tensor,
                  target: Tensor,
                  window_size: int = 11,
                  sigma: float = 1.5,
                  data_range: float = 1.0,
                  normalize: str = 'minmax',
                  padding: str = 'valid') -> Tensor:
    """``1 - SSIM`` between two stacks of maps, per channel and location.

    Args:
        pred (Tensor): Student maps, shape (N, C, H, W).
        target (Tensor): Teacher maps, shape (N, C, H, W).
        window_size (int): Side of the Gaussian window (odd).
        sigma (float): Its standard deviation.
        data_range (float): L in ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``.
        normalize (str): ``'minmax'`` rescales each map to [0, 1] first (de
            Rijk et al.); ``'none'`` uses the values as they are.
        padding (str): ``'valid'``: windows inside the map only; on maps
            smaller than the window, the window shrinks to the largest odd
            size that fits (sigma scaled with it). ``'zeros'``: zero padding,
            output of the input's size.

    Returns:
        Tensor: ``1 - SSIM``, (N, C, H', W') with H' = H - k + 1 for
        ``'valid'`` (k the window used) and H' = H for ``'zeros'``.
    """
    pred, target = pred.float(), target.float()
    if normalize == 'minmax':
        pred, target = min_max(pred), min_max(target)
    size = window_size
    if padding == 'valid':
        fit = min(pred.shape[-2:])
        if fit < size:
            sigma = sigma * max(fit - (1 - fit % 2), 1) / size
            size = max(fit - (1 - fit % 2), 1)
    pad = size // 2 if padding == 'zeros' else 0
    window = gaussian_window(size, sigma, pred.size(1), pred.device)

    def filt(x):
        return F.conv2d(x, window, padding=pad, groups=x.size(1))

    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    mu_x, mu_y = filt(pred), filt(target)
    var_x = filt(pred * pred) - mu_x**2
    var_y = filt(target * target) - mu_y**2
    cov = filt(pred * target) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return 1 - ssim


@MODELS.register_module()
class SSIMDistillLoss(nn.Module):
    """Structural (SSIM) feature distillation loss (de Rijk et al., 2022).

    ``loss = loss_weight * mean(1 - SSIM(phi(S), phi(T)))`` over channels
    and window positions of one level, with phi a per-map min-max rescale to
    [0, 1], a Gaussian window (11x11, sigma 1.5), ``C1 = (0.01 L)^2``,
    ``C2 = (0.03 L)^2``, L = 1. The teacher side is detached. The paper sums
    over levels; :class:`SSSDDistiller` averages them, so
    ``loss_weight=num_levels`` reproduces the sum.

    Args:
        window_size (int): Odd window side. Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        data_range (float): L. Defaults to 1.0.
        normalize (str): ``'minmax'`` (default) or ``'none'``.
        padding (str): ``'valid'`` (default; the window shrinks on maps
            smaller than it, e.g. P7 of small images) or ``'zeros'``.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 data_range: float = 1.0,
                 normalize: str = 'minmax',
                 padding: str = 'valid',
                 reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if window_size < 1 or window_size % 2 == 0:
            raise ValueError(f'SSIMDistillLoss: window_size must be a '
                             f'positive odd number, got {window_size}')
        if not sigma > 0 or not data_range > 0:
            raise ValueError(f'SSIMDistillLoss: sigma and data_range must be '
                             f'> 0, got {sigma}, {data_range}')
        if normalize not in ('minmax', 'none'):
            raise ValueError(f"SSIMDistillLoss: normalize must be 'minmax' "
                             f"or 'none', got {normalize!r}")
        if padding not in ('valid', 'zeros'):
            raise ValueError(f"SSIMDistillLoss: padding must be 'valid' or "
                             f"'zeros', got {padding!r}")
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(f"SSIMDistillLoss: reduction must be 'none', "
                             f"'mean' or 'sum', got {reduction!r}")
        self.window_size = window_size
        self.sigma = sigma
        self.data_range = data_range
        self.normalize = normalize
        self.padding = padding
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
            weight (Tensor, optional): Broadcastable to the ``1 - SSIM`` map.
            avg_factor (float, optional): Average factor of the mean.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The loss.
        """
        if pred.shape != target.shape or pred.dim() != 4:
            raise ValueError(
                f'SSIMDistillLoss: student and teacher maps must both be '
                f'(N, C, H, W) of the same shape, got {tuple(pred.shape)} '
                f'and {tuple(target.shape)}')
        assert reduction_override in (None, 'none', 'mean', 'sum')
        return self.loss_weight * ssim_distance(
            pred,
            target.detach(),
            weight,
            reduction=reduction_override or self.reduction,
            avg_factor=avg_factor,
            window_size=self.window_size,
            sigma=self.sigma,
            data_range=self.data_range,
            normalize=self.normalize,
            padding=self.padding)
