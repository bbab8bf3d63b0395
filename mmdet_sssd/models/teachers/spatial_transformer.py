# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from torch import Tensor


def object_mlp(channels: Sequence[int]) -> nn.Sequential:
    """Per-object Linear -> non-affine LayerNorm -> ReLU stack (a 1x1
    conv1d in PointNet terms)."""
    layers = []
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [
            nn.Linear(c_in, c_out),
            nn.LayerNorm(c_out, elementwise_affine=False),
            nn.ReLU(inplace=True)
        ]
    return nn.Sequential(*layers)


class SpatialTransformer(BaseModule):
    """PointNet's T-Net as LGD's label encoder uses it, on one vector per
    object: an MLP predicts a (d, d) matrix from the object's own vector,
    which is then multiplied by it (``x @ M``).

    As in LGD's reference, no identity is added to ``M`` and no
    orthogonality loss is used (each object is one point, so PointNet's
    max-pool over points is the identity).

    Layers: ``d -> 64 -> 128 -> 1024 -> 512 -> 256`` (Linear, non-affine
    LayerNorm, ReLU), then ``Linear(256, d * d)``.

    Args:
        channels (int): d.

    Shapes:
        - x: (T, d)
        - output: (T, d)
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.encoder = object_mlp([channels, 64, 128, 1024, 512, 256])
        self.matrix = nn.Linear(256, channels * channels)

    def forward(self, x: Tensor) -> Tensor:
        matrix = self.matrix(self.encoder(x)).view(-1, self.channels,
                                                   self.channels)
        return torch.bmm(x.unsqueeze(1), matrix).squeeze(1)
