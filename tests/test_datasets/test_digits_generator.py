"""The embedded handwritten-digits dataset: deterministic, valid COCO."""
import filecmp
import json
import os

import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
from pycocotools.coco import COCO

from mmdet_sssd.datasets import DIGITS_CLASSES, generate_digits_coco
from mmdet_sssd.datasets.coco_layout import scene_statistics

pytest.importorskip('sklearn')
register_all_modules()


def generate(root, seed=0):
    return generate_digits_coco(str(root), num_train=12, num_val=6,
                                image_size=96, seed=seed)


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files,
                                           shallow=False)
    return not mismatch and not errors and all(
        same_tree(os.path.join(a, d), os.path.join(b, d))
        for d in cmp.common_dirs)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    generate(tmp_path / 'a')
    generate(tmp_path / 'b')
    generate(tmp_path / 'c', seed=1)
    assert same_tree(tmp_path / 'a', tmp_path / 'b')
    assert not filecmp.cmp(tmp_path / 'a' / 'train.json',
                           tmp_path / 'c' / 'train.json', shallow=False)


def test_valid_coco(tmp_path):
    paths = generate(tmp_path)
    for split, num in (('train', 12), ('val', 6)):
        coco = COCO(paths[split])
        assert len(coco.getImgIds()) == num
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == \
            list(DIGITS_CLASSES)
        anns = coco.loadAnns(coco.getAnnIds())
        assert len(anns) >= 2 * num  # at least two digits per image
        for ann in anns:
            img = coco.imgs[ann['image_id']]
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and x >= 0 and y >= 0
            assert x + w <= img['width'] and y + h <= img['height']
            assert 1 <= ann['category_id'] <= 10
            assert ann['area'] == pytest.approx(w * h)
        sides = np.array([max(a['bbox'][2:]) for a in anns])
        assert sides.min() < 16 and sides.max() > 32  # varied scale
        for img in coco.imgs.values():
            assert os.path.isfile(tmp_path / 'images' / img['file_name'])


def test_read_by_mmdet_coco_dataset(tmp_path):
    generate(tmp_path)
    dataset = DATASETS.build(dict(
        type='CocoDataset', data_root=str(tmp_path), ann_file='val.json',
        data_prefix=dict(img='images/'),
        metainfo=dict(classes=DIGITS_CLASSES),
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='LoadAnnotations', with_bbox=True),
                  dict(type='PackDetInputs')]))
    assert len(dataset) == 6
    sample = dataset[0]['data_samples']
    assert sample.gt_instances.bboxes.shape[0] >= 2
    assert sample.gt_instances.labels.max() < 10


def test_bad_scales_are_rejected(tmp_path):
    with pytest.raises(ValueError, match='max_scale'):
        generate_digits_coco(str(tmp_path), 1, 1, image_size=32,
                             max_scale=64)


def test_test_split_adds_held_out_images_and_changes_nothing_else(tmp_path):
    generate(tmp_path / 'a')
    generate_digits_coco(str(tmp_path / 'b'), num_train=12, num_val=6,
                         num_test=5)
    # train and val: the same bytes with or without a test split
    for name in ('train.json', 'val.json'):
        assert filecmp.cmp(tmp_path / 'a' / name, tmp_path / 'b' / name,
                           shallow=False)
    test = COCO(str(tmp_path / 'b' / 'test.json'))
    val = COCO(str(tmp_path / 'b' / 'val.json'))
    assert len(test.getImgIds()) == 5
    assert {i['file_name'] for i in test.imgs.values()}.isdisjoint(
        i['file_name'] for i in val.imgs.values())
    # a test split written alone into an existing folder: the same files
    paths = generate_digits_coco(str(tmp_path / 'a'), num_train=12,
                                 num_val=6, num_test=5, splits=('test', ))
    assert list(paths) == ['test']
    assert same_tree(tmp_path / 'a', tmp_path / 'b')


def test_coco_layout_has_cocos_statistics(tmp_path):
    """COCO: 7.3 instances and 2.9 categories per image, 41% / 34% / 24%
    small / medium / large (mmdet_sssd/datasets/coco_layout.py)."""
    paths = generate_digits_coco(str(tmp_path), num_train=300, num_val=1,
                                 layout='coco', splits=('train', ))
    coco = json.loads(open(paths['train']).read())
    stats = scene_statistics(coco)
    assert 6.3 <= stats['instances_per_image'] <= 8.3
    assert 2.4 <= stats['categories_per_image'] <= 3.4
    assert 0.2 <= stats['single_category'] <= 0.45  # many of one category
    assert stats['max_instances'] >= 20  # a long tail
    assert 0.34 <= stats['small'] <= 0.48
    assert 0.28 <= stats['medium'] <= 0.42
    assert 0.17 <= stats['large'] <= 0.31
    assert {img['width'] for img in coco['images']} == {192}
    # valid COCO, read by pycocotools
    assert len(COCO(paths['train']).getAnnIds()) == len(coco['annotations'])


def test_coco_layout_is_deterministic_and_checked(tmp_path):
    for name in ('a', 'b'):
        generate_digits_coco(str(tmp_path / name), num_train=6, num_val=3,
                             layout='coco')
    assert same_tree(tmp_path / 'a', tmp_path / 'b')
    with pytest.raises(ValueError, match='image_size >= 160'):
        generate_digits_coco(str(tmp_path / 'c'), 1, 1, layout='coco',
                             image_size=96)
    with pytest.raises(ValueError, match='layout must be one of'):
        generate_digits_coco(str(tmp_path / 'c'), 1, 1, layout='lvis')


def test_coco_layouts_two_factors_apart(tmp_path):
    """coco-counts: COCO's instances and categories per image at the
    96-pixel scenes' sizes and image; coco-sizes: the 96-pixel scenes'
    2-6 objects of independent classes at COCO's sizes, 192 pixels."""
    stats, widths = {}, {}
    for layout in ('digits', 'coco-counts', 'coco-sizes'):
        paths = generate_digits_coco(str(tmp_path / layout), num_train=200,
                                     num_val=1, layout=layout,
                                     splits=('train', ))
        coco = json.loads(open(paths['train']).read())
        stats[layout] = scene_statistics(coco)
        widths[layout] = {img['width'] for img in coco['images']}
        assert len(COCO(paths['train']).getAnnIds()) == \
            len(coco['annotations'])
    counts, sizes, digits = (stats[k] for k in ('coco-counts', 'coco-sizes',
                                                'digits'))
    assert widths == {'digits': {96}, 'coco-counts': {96},
                      'coco-sizes': {192}}
    # COCO's counts (the bounds of the coco layout's test) ...
    assert 6.3 <= counts['instances_per_image'] <= 8.3
    assert 2.4 <= counts['categories_per_image'] <= 3.4
    assert 0.2 <= counts['single_category'] <= 0.45
    assert counts['max_instances'] >= 20
    # ... at the digits scenes' sizes (no large object, mostly small)
    assert counts['large'] == 0 and counts['small'] >= 0.75
    assert abs(counts['small'] - digits['small']) <= 0.05
    # the digits scenes' counts (2-6, mostly of distinct classes) ...
    assert sizes['max_instances'] <= 6
    assert abs(sizes['instances_per_image'] -
               digits['instances_per_image']) <= 0.3
    assert sizes['single_category'] <= 0.1
    # ... at COCO's sizes
    assert 0.3 <= sizes['small'] <= 0.48
    assert 0.28 <= sizes['medium'] <= 0.42
    assert 0.17 <= sizes['large'] <= 0.35
    for layout in ('coco-counts', 'coco-sizes'):
        generate_digits_coco(str(tmp_path / 'again' / layout), num_train=5,
                             num_val=2, layout=layout)
        generate_digits_coco(str(tmp_path / 'again2' / layout),
                             num_train=5, num_val=2, layout=layout)
        assert same_tree(tmp_path / 'again' / layout,
                         tmp_path / 'again2' / layout)
    with pytest.raises(ValueError, match='image_size >= 160'):
        generate_digits_coco(str(tmp_path / 'c'), 1, 1, layout='coco-sizes',
                             image_size=96)


def test_scene_statistics_hand_computed():
    # image 1: two "1"s and a "2" (areas 100, 2000, 10000); image 2: one
    # "3" (area 1023); image 3: empty
    coco = dict(images=[dict(id=i) for i in (1, 2, 3)], annotations=[
        dict(image_id=1, category_id=1, area=100),
        dict(image_id=1, category_id=1, area=2000),
        dict(image_id=1, category_id=2, area=10000),
        dict(image_id=2, category_id=3, area=1023)])
    stats = scene_statistics(coco)
    assert stats['instances_per_image'] == pytest.approx(4 / 3)
    assert stats['categories_per_image'] == pytest.approx(1.0)
    assert stats['single_category'] == pytest.approx(0.5)
    assert stats['max_instances'] == 3
    assert (stats['small'], stats['medium'], stats['large']) == (
        0.5, 0.25, 0.25)
