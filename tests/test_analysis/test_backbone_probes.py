"""The backbone's scale probe: per band of glyph sides, a linear probe of
the crop's class on the frozen backbone's pooled features."""
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules

from mmdet_sssd.analysis.backbone_probes import pooled_features, scale_probe
from mmdet_sssd.datasets.digits_pretrain import BACKBONE, render_crops

pytest.importorskip('sklearn')
register_all_modules()


def test_pooled_features_one_row_per_crop_in_any_batch():
    torch.manual_seed(0)
    backbone = MODELS.build(BACKBONE)
    crops, _ = render_crops(5, 32, seed=2)
    whole = pooled_features(backbone, crops, batch=5)
    assert whole.shape == (5, backbone.feat_dim)
    assert not backbone.training  # frozen statistics
    np.testing.assert_allclose(pooled_features(backbone, crops, batch=2),
                               whole, rtol=1e-5, atol=1e-6)


def test_scale_probe_reports_each_band():
    torch.manual_seed(0)
    backbone = MODELS.build(BACKBONE)
    bands = (('small', 10, 20, 32), ('large', 40, 60, 64))
    report = scale_probe(backbone, bands, num_fit=60, num_test=30)
    assert list(report) == ['small', 'large']
    for band in report.values():
        assert 0 <= band['accuracy'] <= 1
        # chance: the majority class of 11 (ten digits and background)
        assert 1 / 11 <= band['chance'] < 0.5
