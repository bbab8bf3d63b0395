# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Optional

import torch.nn as nn
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType


def typed(cfg: OptConfigType, default_type: str) -> OptConfigType:
    """``cfg`` with ``type=default_type`` if it names no type (a partial
    override such as ``--cfg-options model.distill_loss.tau=0.5``)."""
    if cfg is None or 'type' in cfg:
        return cfg
    return dict(type=default_type, **cfg)


def build_optional(cfg: OptConfigType) -> Optional[nn.Module]:
    return None if cfg is None else MODELS.build(cfg)
