# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weighted_loss
from mmdet.registry import MODELS
from torch import Tensor

from .map_distill_loss import MapDistillLoss

CONVENTIONS = ('one_minus_ssim', 'kornia')
PADDINGS = ('valid', 'zeros', 'reflect')
# the padding each convention uses unless one is given
DEFAULT_PADDING = dict(one_minus_ssim='valid', kornia='reflect')


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


def reflect_index(size: int, pad: int, device=None) -> Tensor:
    """Source index of each of the ``size + 2 * pad`` positions of a side
    of ``size`` cells reflected (edge not repeated, as ``F.pad(...,
    mode='reflect')``) on both ends, repeating the reflection as often as
    needed when ``pad >= size``. A side of one cell is repeated."""
    i = torch.arange(-pad, size + pad, device=device)
    if size == 1:
        return torch.zeros_like(i)
    period = 2 * (size - 1)
    i = i.remainder(period)  # in [0, period)
    return torch.where(i < size, i, period - i)


def reflect_pad(x: Tensor, pad: int) -> Tensor:
    """Reflect padding of the last two dimensions by ``pad`` on each side;
    ``F.pad(x, [pad] * 4, mode='reflect')`` where that is defined (``pad``
    smaller than both sides), repeated reflection beyond."""
    h, w = x.shape[-2:]
    if pad == 0:
        return x
    if pad < min(h, w):
        return F.pad(x, (pad, pad, pad, pad), mode='reflect')
    rows = reflect_index(h, pad, x.device)
    cols = reflect_index(w, pad, x.device)
    return x[..., rows[:, None], cols[None, :]]


@weighted_loss
def ssim_distance(pred: Tensor,
                  target: Tensor,
                  window_size: int = 11,
                  sigma: float = 1.5,
                  data_range: float = 1.0,
                  normalize: str = 'minmax',
                  padding: str = 'valid',
                  convention: str = 'one_minus_ssim') -> Tensor:
    """SSIM distance between two stacks of maps, per channel and window.

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
            size that fits (sigma scaled with it). ``'zeros'``: zero
            padding, one window per location. ``'reflect'``: reflect
            padding (kornia's ``filter2d`` default), one window per
            location; on maps whose side is at most ``window_size // 2``
            (where ``F.pad`` cannot reflect) the reflection repeats, so the
            window and sigma stay the same on every level.
        convention (str): ``'one_minus_ssim'``: ``1 - SSIM``, in [0, 2].
            ``'kornia'``: ``clamp((1 - SSIM) / 2, 0, 1)``, the distance of
            ``kornia.losses.ssim_loss`` (de Rijk et al.'s implementation).

    Returns:
        Tensor: The distance, (N, C, H', W') with H' = H - k + 1 for
        ``'valid'`` (k the window used) and H' = H for the other paddings.
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
    window = gaussian_window(size, sigma, pred.size(1), pred.device)
    pad = size // 2
    if padding == 'reflect':
        # pad once: the five filtered maps share the same padded input
        pred, target = reflect_pad(pred, pad), reflect_pad(target, pad)
        pad = 0
    elif padding == 'valid':
        pad = 0

    def filt(x):
        return F.conv2d(x, window, padding=pad, groups=x.size(1))

    c1, c2 = (0.01 * data_range)**2, (0.03 * data_range)**2
    mu_x, mu_y = filt(pred), filt(target)
    var_x = filt(pred * pred) - mu_x**2
    var_y = filt(target * target) - mu_y**2
    cov = filt(pred * target) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    if convention == 'kornia':
        return ((1 - ssim) / 2).clamp(0.0, 1.0)
    return 1 - ssim


@MODELS.register_module()
class SSIMDistillLoss(MapDistillLoss):
    """Structural (SSIM) feature distillation loss (de Rijk et al., 2022).

    For one FPN level::

        loss = loss_weight * mean(d(SSIM(phi(S), phi(T))))

    over images, channels and window positions, with phi a per-map min-max
    rescale to [0, 1], a Gaussian window (11x11, sigma 1.5),
    ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``, L = 1, and the teacher side
    ``T`` detached. The distance ``d`` and the windows follow
    ``convention``:

    - ``'one_minus_ssim'`` (default; the behaviour before this option):
      ``d = 1 - SSIM``, in [0, 2], over 'valid' windows (inside the map)
      unless ``padding`` says otherwise.
    - ``'kornia'`` (de Rijk et al.'s, who use ``kornia.losses.ssim_loss``):
      ``d = clamp((1 - SSIM) / 2, 0, 1)``, in [0, 1], with one window per
      location (all H*W positions, reflect padding) unless ``padding`` says
      otherwise.

    Maps smaller than the window (P7, or P6 of small images): ``'valid'``
    shrinks the window to the largest odd size that fits (sigma scaled with
    it; a 1-wide map gets a 1x1 window); ``'reflect'`` keeps the window and
    repeats the reflection where a side is at most ``window_size // 2``
    (kornia itself fails there: ``F.pad`` cannot reflect that far);
    ``'zeros'`` keeps the window. A min-max-rescaled 1x1 map is constant
    (0) on both sides, and its distance is 0.

    Which lambda of the paper: :class:`SSSDDistiller` computes
    ``distill_coef * mean_p loss_p`` over the P levels (P = 5 for the FPNs
    of RetinaNet, FCOS and Faster R-CNN), de Rijk et al. ``lambda * sum_p
    mean(d_p)`` with kornia's distance. So with ``convention='kornia'``
    the paper's ``lambda = distill_coef * loss_weight / P``
    (``loss_weight=5``, ``distill_coef=1`` is lambda = 1); with
    ``'one_minus_ssim'``, whose distance is twice kornia's,
    ``lambda = 2 * distill_coef * loss_weight / P`` (``loss_weight=5`` is
    lambda = 2; lambda = 1 needs ``loss_weight=2.5``).

    Args:
        window_size (int): Odd window side. Defaults to 11.
        sigma (float): Gaussian standard deviation. Defaults to 1.5.
        data_range (float): L. Defaults to 1.0.
        normalize (str): ``'minmax'`` (default) or ``'none'``.
        padding (str, optional): ``'valid'``, ``'zeros'`` or ``'reflect'``.
            Defaults to None: ``'valid'`` for ``convention='one_minus_ssim'``
            and ``'reflect'`` for ``'kornia'``.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over the
            (N, C, H', W') distances. Defaults to 'mean'.
        loss_weight (float): Defaults to 1.0.
        convention (str): ``'one_minus_ssim'`` (default) or ``'kornia'``,
            see above.
    """

    def __init__(self,
                 window_size: int = 11,
                 sigma: float = 1.5,
                 data_range: float = 1.0,
                 normalize: str = 'minmax',
                 padding: Optional[str] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 convention: str = 'one_minus_ssim') -> None:
        super().__init__(reduction, loss_weight)
        if window_size < 1 or window_size % 2 == 0:
            raise ValueError(f'SSIMDistillLoss: window_size must be a '
                             f'positive odd number, got {window_size}')
        if not sigma > 0 or not data_range > 0:
            raise ValueError(f'SSIMDistillLoss: sigma and data_range must be '
                             f'> 0, got {sigma}, {data_range}')
        if normalize not in ('minmax', 'none'):
            raise ValueError(f"SSIMDistillLoss: normalize must be 'minmax' "
                             f"or 'none', got {normalize!r}")
        if convention not in CONVENTIONS:
            raise ValueError(
                f"SSIMDistillLoss: convention must be 'one_minus_ssim' "
                f"(1 - SSIM) or 'kornia' (clamp((1 - SSIM) / 2, 0, 1), "
                f"de Rijk et al.'s), got {convention!r}")
        if padding is None:
            padding = DEFAULT_PADDING[convention]
        if padding not in PADDINGS:
            raise ValueError(f"SSIMDistillLoss: padding must be 'valid', "
                             f"'zeros' or 'reflect', got {padding!r}")
        self.window_size = window_size
        self.sigma = sigma
        self.data_range = data_range
        self.normalize = normalize
        self.convention = convention
        self.padding = padding

    def distance(self, pred: Tensor, target: Tensor,
                 weight: Optional[Tensor], reduction: str,
                 avg_factor: Optional[float]) -> Tensor:
        """The reduced distances; ``weight`` broadcastable to the
        (N, C, H', W') distance map (H' = H, W' = W unless
        ``padding='valid'``), which ``reduction='none'`` returns."""
        return ssim_distance(
            pred, target, weight, reduction=reduction, avg_factor=avg_factor,
            window_size=self.window_size, sigma=self.sigma,
            data_range=self.data_range, normalize=self.normalize,
            padding=self.padding, convention=self.convention)
