# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The benchmark's data folder: made once, made again for another layout."""
import json

import mmcv

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
