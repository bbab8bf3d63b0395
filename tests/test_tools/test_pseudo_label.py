# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""tools/dataset_converters/pseudo_label.py: a detector's detections on
unlabeled images as a COCO file that mmdet's CocoDataset reads."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.runner import save_checkpoint

import mmdet_sssd  # noqa: F401
from mmdet_sssd.testing import TOY_CLASSES, make_toy_coco

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'toy', 'retinanet_r18-tiny_fpn_toy.py')


def tool():
    spec = importlib.util.spec_from_file_location(
        'pseudo_label_tool',
        osp.join(ROOT, 'tools', 'dataset_converters', 'pseudo_label.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('pseudo')
    make_toy_coco(str(root / 'toy'), num_train=4, num_val=5)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    ckpt = str(root / 'teacher.pth')
    save_checkpoint(dict(state_dict=model.state_dict(),
                         meta=dict(dataset_meta=dict(classes=TOY_CLASSES))),
                    ckpt)
    return root, ckpt


def read_dataset(root, ann_file):
    return DATASETS.build(dict(
        type='CocoDataset', data_root=str(root / 'toy'), ann_file=ann_file,
        data_prefix=dict(img='images/'), metainfo=dict(classes=TOY_CLASSES),
        filter_cfg=dict(filter_empty_gt=True), pipeline=[]))


def test_writes_a_coco_file_that_cocodataset_reads(setup):
    root, ckpt = setup
    out = str(root / 'pseudo.json')
    # a folder of images: the 4 train and 5 val images
    tool().main([CONFIG, ckpt, str(root / 'toy' / 'images'), out,
                 '--score-thr', '0.0', '--batch-size', '3', '--device',
                 'cpu'])
    with open(out) as f:
        coco = json.load(f)
    assert len(coco['images']) == 9 and coco['annotations']
    assert [c['name'] for c in coco['categories']] == list(TOY_CLASSES)
    assert coco['info']['score_thr'] == 0.0
    dataset = read_dataset(root, out)
    assert len(dataset) == 9
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        assert info['instances'] and osp.isfile(info['img_path'])
        for inst in info['instances']:
            x1, y1, x2, y2 = inst['bbox']
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
            assert 0 <= inst['bbox_label'] < len(TOY_CLASSES)
    assert all(0.0 <= a['score'] <= 1.0 for a in coco['annotations'])


def test_images_go_through_the_configs_own_test_pipeline():
    from mmdet_sssd.utils.pseudo_label import inference_pipeline
    cfg = Config.fromfile(CONFIG)
    # the toy config inherits mmdet's test_pipeline variable (1333x800)
    # but tests with its dataloader's 64x64 pipeline: that one is used
    assert cfg.test_pipeline[1]['scale'] == (1333, 800)
    resize = [t for t in inference_pipeline(cfg).transforms
              if type(t).__name__ == 'Resize']
    assert resize[0].scale == (64, 64)
    assert not any(type(t).__name__ == 'LoadAnnotations'
                   for t in inference_pipeline(cfg).transforms)


def test_detections_match_the_models_own_test_step(setup, tmp_path):
    """The tool's boxes are those mmdet's test loop gives the same
    checkpoint on the same image (original pixels)."""
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import load_checkpoint
    root, ckpt = setup
    cfg = Config.fromfile(CONFIG)
    out = str(tmp_path / 'p.json')
    tool().main([CONFIG, ckpt, str(root / 'toy' / 'val.json'), out,
                 '--img-dir', str(root / 'toy' / 'images'), '--score-thr',
                 '0.05', '--device', 'cpu'])
    with open(out) as f:
        ours = json.load(f)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, ckpt, map_location='cpu')
    model.eval()
    dataset = DATASETS.build(dict(
        cfg.test_dataloader.dataset, data_root=str(root / 'toy'),
        ann_file='val.json'))
    with torch.no_grad():
        result = model.test_step(pseudo_collate([dataset[0]]))[0]
    pred = result.pred_instances[result.pred_instances.scores >= 0.05]
    image_id = dataset.get_data_info(0)['img_id']
    boxes = [a['bbox'] for a in ours['annotations']
             if a['image_id'] == image_id]
    assert len(boxes) == len(pred) > 0
    x1, y1, x2, y2 = pred.bboxes[0].tolist()
    assert boxes[0] == pytest.approx([x1, y1, x2 - x1, y2 - y1], abs=0.01)


def test_threshold_empty_images_and_image_lists(setup):
    root, ckpt = setup
    val = str(root / 'toy' / 'val.json')
    out = str(root / 'none.json')
    args = [CONFIG, ckpt, val, out, '--img-dir', str(root / 'toy' / 'images'),
            '--score-thr', '1.0', '--device', 'cpu']
    tool().main(args)
    with open(out) as f:
        coco = json.load(f)
    # no score reaches 1: every image is left out, and counted
    assert coco['images'] == [] and coco['annotations'] == []
    assert coco['info']['num_without_detection'] == 5
    tool().main(args + ['--keep-empty'])
    with open(out) as f:
        coco = json.load(f)
    with open(val) as f:
        listed = json.load(f)['images']
    # a COCO image list keeps its ids and file names
    assert [(i['id'], i['file_name']) for i in coco['images']] == \
        [(i['id'], i['file_name']) for i in listed]


def test_category_ids_follow_the_labeled_set(setup, tmp_path):
    root, ckpt = setup
    labeled = tmp_path / 'labeled.json'
    labeled.write_text(json.dumps(dict(images=[], annotations=[], categories=[
        dict(id=7, name='cross'), dict(id=3, name='rectangle'),
        dict(id=5, name='ellipse')])))
    out = str(tmp_path / 'pseudo.json')
    tool().main([CONFIG, ckpt, str(root / 'toy' / 'images'), out,
                 '--score-thr', '0.0', '--device', 'cpu',
                 '--categories-from', str(labeled)])
    with open(out) as f:
        coco = json.load(f)
    assert coco['categories'] == [dict(id=3, name='rectangle'),
                                  dict(id=5, name='ellipse'),
                                  dict(id=7, name='cross')]
    assert {a['category_id'] for a in coco['annotations']} <= {3, 5, 7}


def test_bad_inputs_fail_clearly(setup, tmp_path):
    root, ckpt = setup
    with pytest.raises(FileNotFoundError, match='neither a folder'):
        tool().main([CONFIG, ckpt, str(tmp_path / 'nowhere'),
                     str(tmp_path / 'o.json'), '--device', 'cpu'])
    with pytest.raises(SystemExit):
        tool().parse_args([CONFIG, ckpt, 'x', 'y', '--score-thr', '2'])
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(images=[dict(id=1, file_name='a.png')])))
    with pytest.raises(FileNotFoundError, match='--img-dir'):
        tool().main([CONFIG, ckpt, str(bad), str(tmp_path / 'o.json'),
                     '--device', 'cpu'])
