"""The digits benchmark's pretrained backbone: deterministic, made from the
train split's digits only, and loaded by mmdet's own init_cfg."""
import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules

from mmdet_sssd.datasets.digits_generator import split_sources
from mmdet_sssd.datasets.digits_pretrain import (pretrain_digits_backbone,
                                                 render_crops)

pytest.importorskip('sklearn')
register_all_modules()
TINY = dict(num_crops=32, epochs=1, batch_size=16, num_val=8, log=None)


def test_split_sources_disjoint():
    splits = split_sources(0)
    train = {d.tobytes() for d in splits['train'][0]}
    val = [d.tobytes() for d in splits['val'][0]]
    # the sklearn set holds a few exact duplicates; none may cross
    assert len(splits['train'][0]) + len(val) == 1797
    assert sum(v in train for v in val) <= 2
    crops, labels = render_crops(40, seed=3)
    assert crops.shape == (40, 32, 32, 3) and crops.dtype == np.uint8
    assert set(labels) <= set(range(11)) and 10 in labels


def test_same_seed_same_weights(tmp_path):
    pretrain_digits_backbone(str(tmp_path / 'a.pth'), seed=0, **TINY)
    pretrain_digits_backbone(str(tmp_path / 'b.pth'), seed=0, **TINY)
    pretrain_digits_backbone(str(tmp_path / 'c.pth'), seed=1, **TINY)
    a, b, c = (torch.load(tmp_path / f'{n}.pth', weights_only=True)
               ['state_dict'] for n in 'abc')
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a['conv1.weight'], c['conv1.weight'])


def test_loads_through_init_cfg(tmp_path):
    ckpt = str(tmp_path / 'backbone.pth')
    pretrain_digits_backbone(ckpt, **TINY)
    saved = torch.load(ckpt, weights_only=True)['state_dict']
    # the digits config's backbone, as the baseline and every distilled
    # student build it
    backbone = MODELS.build(dict(
        type='ResNet', depth=18, base_channels=16, frozen_stages=1,
        norm_eval=True, init_cfg=dict(type='Pretrained', checkpoint=ckpt)))
    backbone.init_weights()
    state = backbone.state_dict()
    assert set(saved) == set(state)  # nothing missing, nothing unexpected
    for key, value in saved.items():
        assert torch.equal(state[key], value), key


def test_coco_scales_draw_the_layouts_glyphs():
    # the COCO layout's scales: glyphs of every size class, up to 150
    # pixels, in 160-pixel crops of its 192-pixel backgrounds
    from mmdet_sssd.datasets.coco_layout import (SIDE_RANGES, SIZE_SHARES,
                                                 draw_glyph_side)
    from mmdet_sssd.datasets.digits_pretrain import CROPS
    size = CROPS['coco']['size']
    crops, labels = render_crops(12, size, seed=5, image_size=192,
                                 scales='coco')
    assert crops.shape == (12, 160, 160, 3) and crops.dtype == np.uint8
    assert size >= SIDE_RANGES['large'][1]
    # the sides drawn: the scenes' size classes in the scenes' shares
    rng = np.random.RandomState(0)
    sides = np.array([draw_glyph_side(rng) for _ in range(3000)])
    for (low, high), share in zip(SIDE_RANGES.values(), SIZE_SHARES):
        inside = ((sides >= low) & (sides <= high)).mean()
        assert abs(inside - share) < 0.04
    with pytest.raises(ValueError, match='size must be at least'):
        render_crops(2, 32, scales='coco')
    with pytest.raises(ValueError, match='scales must be one of'):
        render_crops(2, scales='layout')


def test_coco_scales_pretrain(tmp_path):
    pretrain_digits_backbone(str(tmp_path / 'a.pth'), scales='coco', **TINY)
    meta = torch.load(tmp_path / 'a.pth', weights_only=True)['meta']
    assert meta['scales'] == 'coco' and meta['size'] == 160
    with pytest.raises(ValueError, match='scales must be one of'):
        pretrain_digits_backbone(str(tmp_path / 'b.pth'), scales='big',
                                 **TINY)


def test_default_crops_as_before():
    # the 96-pixel scenes' crops of seed 3, as every record's backbone was
    # pretrained on them (df89350, before the COCO scales were added)
    import hashlib
    crops, labels = render_crops(4, seed=3)
    assert hashlib.sha256(crops.tobytes()).hexdigest()[:16] == \
        '462b431755d6f93e'
    assert labels.tolist() == [2, 3, 0, 3]


def test_coco_crops_draw_the_layouts_sides(monkeypatch):
    from mmdet_sssd.datasets import digits_pretrain
    drawn = []

    def recording(rng):
        drawn.append(digits_pretrain.draw_glyph_side.__wrapped__(rng))
        return drawn[-1]

    recording.__wrapped__ = digits_pretrain.draw_glyph_side
    monkeypatch.setattr(digits_pretrain, 'draw_glyph_side', recording)
    _, labels = render_crops(30, 160, seed=4, image_size=192,
                             scales='coco')
    assert len(drawn) == (labels < 10).sum() > 0  # one side a digit
    with pytest.raises(ValueError, match='background of at least'):
        render_crops(2, 160, scales='coco')  # image_size 96
    with pytest.raises(ValueError, match='glyphs no larger'):
        render_crops(2, 32, max_scale=40)
