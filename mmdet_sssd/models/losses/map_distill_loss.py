# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from torch import Tensor

REDUCTIONS = ('none', 'mean', 'sum')


class MapDistillLoss(nn.Module):
    """Base of the losses between the student's and the teacher's maps of
    one FPN level, in mmdet's loss convention (``reduction``,
    ``loss_weight``, ``weight``, ``avg_factor``, ``reduction_override``).
    Subclasses implement :meth:`distance`; the teacher side is detached
    here.

    Args:
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        loss_weight (float): Factor of the loss.
    """

    def __init__(self, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be "
                             f"'none', 'mean' or 'sum', got {reduction!r}")
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
            pred (Tensor): Student maps of one level, shape (N, C, H, W).
            target (Tensor): Teacher maps, shape (N, C, H, W); detached.
            weight (Tensor, optional): Weight of each value before the
                reduction (the subclass says of which shape).
            avg_factor (float, optional): Average factor of the mean.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: ``loss_weight`` x the reduced distance.
        """
        if pred.shape != target.shape or pred.dim() != 4:
            raise ValueError(
                f'{type(self).__name__}: student and teacher maps must both '
                f'be (N, C, H, W) of the same shape, got '
                f'{tuple(pred.shape)} and {tuple(target.shape)}')
        assert reduction_override in (None, ) + REDUCTIONS
        return self.loss_weight * self.distance(
            pred, target.detach(), weight, reduction_override
            or self.reduction, avg_factor)

    def distance(self, pred: Tensor, target: Tensor,
                 weight: Optional[Tensor], reduction: str,
                 avg_factor: Optional[float]) -> Tensor:
        raise NotImplementedError
