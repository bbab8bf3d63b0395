# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import Tuple

import torch
from mmdet.models.detectors import BaseDetector


def neck_levels(detector: BaseDetector, name: str,
                size: int = 128) -> Tuple[int, int]:
    """Width and number of the maps ``detector.extract_feat`` returns, read
    from one dry run on a ``size`` x ``size`` input (eval mode, no
    gradients, no statistics updated), so any multi-level neck of one width
    works: FPN, PAFPN, Libra's ``[FPN, BFP]``...

    Returns:
        tuple[int]: channels, number of levels.
    """
    neck = getattr(detector, 'neck', None)
    in_channels = getattr(detector.backbone, 'in_channels', 3)
    modes = [(m, m.training) for m in detector.modules()]
    feats = None
    if neck is not None:
        try:
            detector.eval()
            with torch.no_grad():
                param = next(detector.parameters())
                feats = detector.extract_feat(
                    param.new_zeros(1, in_channels, size, size))
        except Exception:  # noqa: BLE001 (reported below as unsupported)
            feats = None
        finally:
            for module, mode in modes:
                module.training = mode
    widths = {f.shape[1] for f in feats} if isinstance(
        feats, (list, tuple)) and all(torch.is_tensor(f) for f in feats) \
        else set()
    if len(widths) != 1 or len(feats) < 2:
        raise TypeError(
            f'SSSDDistiller: {name} has no multi-level neck with a single '
            f'output width (neck: {type(neck).__name__}); the teacher needs '
            f'one map per level with the same channels, as from FPN/PAFPN')
    return widths.pop(), len(feats)
