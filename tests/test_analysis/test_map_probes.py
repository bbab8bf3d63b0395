"""The detector-map probes per size class: hand-computed cases, and the
collection through a real toy RetinaNet and its data."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmdet_sssd  # noqa: F401
from mmdet_sssd.analysis.map_probes import (MAPS, centre_cells,
                                            collect_map_probes,
                                            map_probe_report, size_class)
from mmdet_sssd.testing import make_toy_coco

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')
pytest.importorskip('sklearn')


def test_size_class_at_cocos_bounds():
    # COCO: small < 32^2 <= medium < 96^2 <= large
    assert size_class(np.array([0., 1023., 1024., 9215., 9216., 1e6])
                      ).tolist() == [0, 0, 1, 1, 2, 2]


def test_centre_cells_by_hand():
    feat = torch.arange(2 * 1 * 3 * 4, dtype=torch.float).view(2, 1, 3, 4)
    # cell j's prior at j * 8 (mmdet's anchors): the nearest one's cell
    boxes = torch.tensor([[0., 0., 6., 6.],      # centre (3, 3): cell (0, 0)
                          [20., 10., 28., 22.],  # (24, 16): x 3, y 2
                          [6., 2., 18., 8.],     # (12, 5): x 2 (12 / 8 =
                          # 1.5 rounds up), y 1
                          [40., 40., 90., 90.]])  # outside: the last cell
    got = centre_cells(feat, torch.tensor([0, 1, 0, 0]), boxes, (8., 8.))
    assert got[:, 0].tolist() == [0., 12 + 2 * 4 + 3, 1 * 4 + 2, 2 * 4 + 3]


def test_report_reads_the_class_where_the_features_hold_it():
    # large objects' features are their one-hot class, small ones' noise:
    # the probe reads the first and not the second
    rng = np.random.RandomState(0)

    def split(n):
        labels = rng.randint(0, 4, n)
        sizes = np.repeat([0, 2], n // 2)
        feats = rng.normal(size=(n, 4))
        large = sizes == 2
        feats[large] = np.eye(4)[labels[large]] + 0.01 * feats[large]
        data = dict(labels=labels, sizes=sizes, strides=[8])
        data.update({k: [feats] for k in MAPS})
        return data

    report = map_probe_report(split(400), split(400))
    assert report['large']['neck'] == [1.0]
    assert report['small']['neck'][0] < 0.45
    assert report['medium']['objects'] == [0, 0]
    assert report['medium']['neck'] == [None]  # too few objects


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    register_all_modules()
    root = str(tmp_path_factory.mktemp('maps'))
    make_toy_coco(root, num_train=8, num_val=4)
    cfg = Config.fromfile(TOY)
    ds = cfg.val_dataloader.dataset.copy()
    ds.data_root = root
    ds.test_mode = False
    ds.pop('filter_cfg', None)
    torch.manual_seed(0)
    return MODELS.build(cfg.model).student, DATASETS.build(ds)


def test_collect_one_row_per_gt_object(toy):
    detector, dataset = toy
    data = collect_map_probes(detector, dataset, 4, batch_size=3)
    num = sum(len(dataset[i]['data_samples'].gt_instances)
              for i in range(4))
    assert data['labels'].shape == data['sizes'].shape == (num, )
    levels = len(detector.bbox_head.prior_generator.strides)
    assert len(data['strides']) == levels
    for key in MAPS:
        assert len(data[key]) == levels
        assert all(x.shape == (num, detector.neck.out_channels)
                   for x in data[key])
    # the same objects in one batch or in several
    again = collect_map_probes(detector, dataset, 4, batch_size=4)
    np.testing.assert_allclose(again['neck'][0], data['neck'][0],
                               rtol=1e-4, atol=1e-5)


def test_collect_says_when_there_is_no_object(toy):
    detector, dataset = toy
    with pytest.raises(ValueError, match='no GT object'):
        collect_map_probes(detector, dataset, 0)


def test_sizes_in_the_original_images_pixels_and_tower_not_neck(toy):
    # the images scaled x2 by the pipeline: the size classes still come
    # from the annotations' own areas (COCO's are in the original pixels)
    import json

    from mmdet_sssd.utils import load_gt_first
    detector, dataset = toy
    cfg = Config.fromfile(TOY)
    pipeline = load_gt_first(cfg.val_dataloader.dataset.pipeline)
    for t in pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (128, 128)
    ds = cfg.val_dataloader.dataset.copy()
    ds.update(data_root=dataset.data_root, test_mode=False,
              pipeline=pipeline)
    ds.pop('filter_cfg', None)
    scaled = DATASETS.build(ds)
    assert scaled[0]['data_samples'].metainfo['scale_factor'][0] == 2
    data = collect_map_probes(detector, scaled, 4)
    with open(scaled.ann_file) as f:
        coco = json.load(f)
    ids = [scaled[i]['data_samples'].img_id for i in range(4)]
    areas = [a['area'] for i in ids for a in coco['annotations']
             if a['image_id'] == i]
    assert data['sizes'].tolist() == size_class(np.array(areas)).tolist()
    # the classification tower is not the neck's maps
    assert not np.allclose(data['cls_tower_centre'][0],
                           data['neck_centre'][0])
