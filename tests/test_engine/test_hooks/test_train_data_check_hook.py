# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""TrainDataCheckHook on COCO files with bad annotations, read by mmdet's
CocoDataset in a real runner."""
import glob
import json
import math
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd.engine.hooks import TrainDataCheckHook
from mmdet_sssd.testing import make_toy_coco
from mmdet_sssd.utils.mmdet_tools import tools_env

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')


@pytest.fixture
def coco(tmp_path):
    root = str(tmp_path / 'data')
    make_toy_coco(root)
    with open(osp.join(root, 'train.json')) as f:
        return root, json.load(f)


def runner_for(tmp_path, root, ann, filter_empty_gt=True, **dataset_opts):
    with open(osp.join(root, 'bad.json'), 'w') as f:
        json.dump(ann, f)  # writes NaN/Infinity tokens, as Python reads them
    cfg = Config.fromfile(TOY)
    cfg.work_dir = str(tmp_path / 'work')
    # A runner built in the same second under the same name would reuse
    # the earlier one's logger and log file, elsewhere.
    cfg.experiment_name = f'data_check_{tmp_path.name}'
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = root
    dataset.ann_file = 'bad.json'
    dataset.filter_cfg = dict(filter_empty_gt=filter_empty_gt)
    dataset.update(dataset_opts)
    cfg.val_dataloader.dataset.data_root = root
    cfg.val_evaluator.ann_file = osp.join(root, 'val.json')
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    runner = Runner.from_cfg(cfg)
    hook = next(h for h in runner.hooks if isinstance(h, TrainDataCheckHook))
    return runner, hook


def add(ann, image_id, bbox, category_id=1, area=None):
    ann['annotations'].append(dict(
        id=1000 + len(ann['annotations']), image_id=image_id, bbox=bbox,
        category_id=category_id, iscrowd=0,
        area=bbox[2] * bbox[3] if area is None else area))
    return ann['annotations'][-1]['id']


def log_text(runner):
    files = glob.glob(osp.join(runner.log_dir, '*.log'))
    with open(files[0]) as f:
        return f.read()


def test_annotations_mmdet_skips_are_reported(tmp_path, coco):
    root, ann = coco
    ids = dict(
        zero=add(ann, 1, [5, 5, 0, 10]),
        negative=add(ann, 1, [5, 5, 10, -3]),
        outside=add(ann, 2, [80, 10, 10, 10]),
        category=add(ann, 2, [5, 5, 10, 10], category_id=42),
        nan=add(ann, 3, [math.nan, 5, 10, 10]))
    runner, hook = runner_for(tmp_path, root, ann)
    hook.before_train(runner)
    text = log_text(runner)
    assert 'skips 5 annotations' in text
    assert f'width or height < 1 or area <= 0: 2 (annotation ids ' \
           f'[{ids["zero"]}, {ids["negative"]}])' in text
    assert f'outside the image: 1 (annotation ids [{ids["outside"]}])' in text
    assert f'category not in metainfo.classes: 1 (annotation ids ' \
           f'[{ids["category"]}])' in text
    assert f'non-finite bbox or area: 1 (annotation ids [{ids["nan"]}])' \
        in text
    # training goes on without them
    dataset = runner.train_dataloader.dataset
    instances = [i for k in range(len(dataset))
                 for i in dataset.get_data_info(k)['instances']]
    assert len(instances) == len(coco[1]['annotations']) - 5


def test_clean_data_logs_nothing(tmp_path, coco):
    root, ann = coco
    runner, hook = runner_for(tmp_path, root, ann)
    hook.before_train(runner)
    assert 'skips' not in log_text(runner)


def test_infinite_width_that_mmdet_keeps_is_an_error(tmp_path, coco):
    root, ann = coco
    add(ann, 4, [10, 10, math.inf, 10])
    runner, _ = runner_for(tmp_path, root, ann)
    with pytest.raises(ValueError, match=r'non-finite box: 1, e\.g\. '
                       r'\[.*train_0003\.png: \[10, 10, inf, 20\]'):
        runner.train()


def test_no_image_left_after_filtering_is_an_error(tmp_path, coco):
    root, ann = coco
    ann['annotations'] = []
    # (mmengine's default serialize_data=True fails on an empty dataset
    # before any hook runs; tools/train.py explains it, below)
    runner, _ = runner_for(tmp_path, root, ann, serialize_data=False)
    with pytest.raises(ValueError, match='yields no batch: 0 images after '
                       'filtering.*filter_empty_gt=False'):
        runner.train()


def test_tools_train_explains_an_empty_dataset(tmp_path, coco):
    root, ann = coco
    ann['annotations'] = []
    with open(osp.join(root, 'empty.json'), 'w') as f:
        json.dump(ann, f)
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), TOY,
         '--work-dir', str(tmp_path / 'work'), '--cfg-options',
         f'train_dataloader.dataset.data_root={root}',
         'train_dataloader.dataset.ann_file=empty.json'],
        capture_output=True, text=True, timeout=300, env=tools_env())
    assert proc.returncode != 0
    assert 'a dataset has no samples' in proc.stderr
    assert 'filter_empty_gt=False' in proc.stderr


def test_images_without_objects_train_when_kept(tmp_path, coco):
    root, ann = coco
    ann['annotations'] = [a for a in ann['annotations'] if a['image_id'] > 4]
    runner, _ = runner_for(tmp_path, root, ann, filter_empty_gt=False)
    runner.train()
    assert runner.iter == 8  # 8 images, batch 2, 2 epochs
