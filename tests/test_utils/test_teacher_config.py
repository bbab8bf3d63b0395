import pytest
from mmengine.hub import get_config

from mmdet_sssd.utils import load_gt_first, load_teacher_config


def types(pipeline):
    return [t['type'] for t in pipeline]


def test_load_gt_first_on_the_stock_coco_test_pipeline():
    # mmdet's COCO test pipeline loads the GT after Resize (for the metric)
    cfg = get_config('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py')
    stock = cfg.test_dataloader.dataset.pipeline
    assert types(stock) == ['LoadImageFromFile', 'Resize', 'LoadAnnotations',
                            'PackDetInputs']
    moved = load_gt_first(stock)
    assert types(moved) == ['LoadImageFromFile', 'LoadAnnotations', 'Resize',
                            'PackDetInputs']
    assert moved[1]['with_bbox'] and moved[2] == stock[1]
    assert types(stock)[1] == 'Resize'  # the input is not changed


def test_load_gt_first_adds_missing_annotations_and_checks_the_image():
    pipeline = [dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(96, 96)),
                dict(type='PackDetInputs')]
    assert types(load_gt_first(pipeline))[:2] == ['LoadImageFromFile',
                                                  'LoadAnnotations']
    with pytest.raises(ValueError, match='no LoadImage'):
        load_gt_first(pipeline[1:])


def test_load_teacher_config():
    cfg = load_teacher_config('configs/sssd/sssd_retinanet_r50_fpn_1x_coco.py',
                              {'model.predict_with_teacher': True})
    assert cfg.model.predict_with_teacher
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert types(loader.dataset.pipeline)[:2] == ['LoadImageFromFile',
                                                      'LoadAnnotations']
    # a plain detector has no teacher to run
    with pytest.raises(ValueError, match='not an SSSDDistiller'):
        load_teacher_config('configs/digits/retinanet_r18_fpn_digits.py')
