# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Does a pretrained digits backbone carry a digit's class at each glyph
scale? The backbone frozen (eval mode), its last stage's maps averaged
over the crop, a linear probe (:func:`linear_probe_accuracy`) fit on the
crops of one band of glyph sides and scored on other crops of that band;
for ``tools/analysis_tools/probe_backbone_scales.py``."""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from .teacher_probes import linear_probe_accuracy

# (name, smallest and largest glyph side, crop side): the 96-pixel scenes'
# scales (the default pretraining's), then the COCO layout's medium and
# large digits (coco_layout.SIDE_RANGES) in crops that hold them
BANDS = (('10-32 px in 32-px crops', 10, 32, 32),
         ('44-104 px in 160-px crops', 44, 104, 160),
         ('114-150 px in 160-px crops', 114, 150, 160))


@torch.no_grad()
def pooled_features(backbone: torch.nn.Module, crops: np.ndarray,
                    batch: int = 100) -> np.ndarray:
    """(N, C) the backbone's last output averaged over each crop (N x S x
    S x 3 uint8 BGR crops, normalised as the configs do)."""
    from mmdet_sssd.datasets.digits_pretrain import _to_tensor
    backbone.eval()
    return torch.cat([
        backbone(_to_tensor(crops[i:i + batch]))[-1].mean((2, 3))
        for i in range(0, len(crops), batch)]).numpy()


def scale_probe(backbone: torch.nn.Module,
                bands: Sequence[Tuple[str, int, int, int]] = BANDS,
                num_fit: int = 1500, num_test: int = 600,
                seed: int = 1) -> Dict[str, Dict[str, float]]:
    """For each band: the probe's test accuracy over the 11 crop classes
    (ten digits and background) and the majority class's share (chance).
    The crops are rendered from the train split's source digits
    (``render_crops``, 192-pixel backgrounds), the fit and test crops from
    two render seeds."""
    from mmdet_sssd.datasets.digits_pretrain import render_crops
    report = {}
    for name, low, high, size in bands:
        (fit_x, fit_y), (test_x, test_y) = [render_crops(
            num, size, min_scale=low, max_scale=high, seed=s,
            image_size=192) for num, s in ((num_fit, seed),
                                           (num_test, seed + 1))]
        counts = np.bincount(test_y)
        report[name] = dict(
            accuracy=linear_probe_accuracy(
                pooled_features(backbone, fit_x), fit_y,
                pooled_features(backbone, test_x), test_y),
            chance=float(counts.max() / counts.sum()))
    return report
