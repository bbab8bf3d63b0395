# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The benchmark's data folder: made once, made again for another layout."""
import json

import mmcv
import pytest
import torch

from mmdet_sssd.benchmarking.digits_data import prepare_data


def test_data_folder_follows_the_layout(tmp_path):
    root = str(tmp_path / 'data')
    backbone = prepare_data(root, 'smoke', 8, 4, 4)
    meta = json.loads((tmp_path / 'data' / 'meta.json').read_text())
    assert 'layout' not in meta  # the folders made before layouts match
    first = json.loads((tmp_path / 'data' / 'train.json').read_text())
    assert first['images'][0]['width'] == 96
    made = (tmp_path / 'data' / 'backbone.pth').stat().st_mtime_ns
    # the same request reuses everything
    assert prepare_data(root, 'smoke', 8, 4, 4) == backbone
    assert (tmp_path / 'data' / 'backbone.pth').stat().st_mtime_ns == made
    # the COCO layout regenerates the splits (192-pixel scenes)
    prepare_data(root, 'smoke', 8, 4, 4, layout='coco')
    meta = json.loads((tmp_path / 'data' / 'meta.json').read_text())
    assert meta['layout'] == 'coco' and meta['num_test'] == 4
    for split in ('train', 'val', 'test'):
        coco = json.loads((tmp_path / 'data' / f'{split}.json').read_text())
        image = coco['images'][0]
        assert (image['width'], image['height']) == (192, 192)
        pixels = mmcv.imread(str(tmp_path / 'data' / 'images' /
                                 image['file_name']))
        assert pixels.shape[:2] == (192, 192)


def test_backbone_pretrained_at_the_layouts_scales(tmp_path):
    root = str(tmp_path / 'data')
    layout = prepare_data(root, 'smoke', 8, 4, 4, layout='coco',
                          pretrain_scales='layout')
    assert layout.endswith('backbone_coco_scales.pth')
    assert torch.load(layout, weights_only=True)['meta']['scales'] == 'coco'
    # the 96-pixel scenes' scales, beside it in the same folder
    digits = prepare_data(root, 'smoke', 8, 4, 4, layout='coco')
    assert digits.endswith('backbone.pth')
    assert torch.load(digits, weights_only=True)['meta']['scales'] == \
        'digits'
    # the COCO layout's sizes apart: its scales; its counts: the digits'
    sizes = prepare_data(str(tmp_path / 'sizes'), 'smoke', 8, 4, 4,
                         layout='coco-sizes', pretrain_scales='layout')
    assert torch.load(sizes, weights_only=True)['meta']['scales'] == 'coco'
    counts = prepare_data(str(tmp_path / 'counts'), 'smoke', 8, 4, 4,
                          layout='coco-counts', pretrain_scales='layout')
    assert torch.load(counts, weights_only=True)['meta']['scales'] == \
        'digits'
    with pytest.raises(ValueError, match="'digits' or 'layout'"):
        prepare_data(root, 'smoke', 8, 4, 4, pretrain_scales='coco')
