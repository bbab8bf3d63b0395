# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""LabelTeacherValLoop: the label teacher scored at each validation, in a
real runner on the toy config."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmdet_sssd  # noqa: F401
from mmdet_sssd.engine.runner import LabelTeacherValLoop
from mmdet_sssd.testing import make_toy_coco

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')
BASE = osp.join(ROOT, 'configs', 'toy', 'retinanet_r18-tiny_fpn_toy.py')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('toy'))
    make_toy_coco(root, num_train=4, num_val=4)
    return root


def toy_cfg(tmp_path, data_root, path=TOY, val_loop=True):
    cfg = Config.fromfile(path)
    # the stock test pipeline's order: the GT (for the metric) after Resize
    pipeline = cfg.val_dataloader.dataset.pipeline
    gt = [t for t in pipeline if t.type == 'LoadAnnotations']
    rest = [t for t in pipeline if t.type != 'LoadAnnotations']
    cfg.val_dataloader.dataset.pipeline = rest[:-1] + gt + rest[-1:]
    cfg.work_dir = str(tmp_path / 'work')
    # a runner built in the same second under the same name would reuse
    # the earlier one's logger
    cfg.experiment_name = f'val_loop_{tmp_path.name}_{val_loop}'
    # mmdet's runtime names its visualizer 'visualizer': a runner built
    # earlier in the process would lend this one its instance, which writes
    # to the earlier run's vis_data
    cfg.visualizer.name = f'visualizer_{tmp_path.name}_{val_loop}'
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = data_root
    cfg.val_evaluator.ann_file = osp.join(data_root, 'val.json')
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1,
                         val_interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook',
                                        interval=1)
    if val_loop:
        cfg.val_cfg = dict(type='LabelTeacherValLoop')
    return cfg


def test_scores_teacher_and_student(tmp_path, data_root):
    runner = Runner.from_cfg(toy_cfg(tmp_path, data_root))
    loop = runner.val_loop
    assert isinstance(loop, LabelTeacherValLoop)
    # the GT is loaded before Resize, for the teacher
    loaded = [type(t).__name__
              for t in loop.dataloader.dataset.pipeline.transforms]
    assert loaded.index('LoadAnnotations') < loaded.index('Resize')

    calls = []  # the label teacher's forward passes outside training
    runner.model.teacher.register_forward_hook(
        lambda module, args, out: calls.append(module.training) or None)
    runner.train()  # one epoch, then one validation
    assert calls.count(False) == 2  # 4 val images, batch 2
    model = runner.model
    assert model.predict_with_teacher is False  # restored
    scalars = runner.message_hub.log_scalars
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'teacher/coco/bbox_mAP',
                'teacher/coco/bbox_mAP_50', 'teacher/coco/bbox_mAP_s',
                # the class-agnostic AP of both (ClassAgnosticCocoMetric)
                'coco_agnostic/bbox_mAP', 'teacher/coco_agnostic/bbox_mAP'):
        assert f'val/{key}' in scalars, sorted(scalars)
    with open(osp.join(runner.log_dir, 'vis_data', 'scalars.json')) as f:
        logged = [json.loads(line) for line in f]
    assert any('teacher/coco/bbox_mAP' in row for row in logged)

    # The student's metrics are a stock ValLoop's; the teacher's come from
    # its own pass (the teacher and student predictions differ).
    metrics = runner.val_loop.run()
    student = {k: v for k, v in metrics.items()
               if k.startswith('coco/')}
    stock_cfg = toy_cfg(tmp_path / 'stock', data_root, val_loop=False)
    stock_cfg.load_from = osp.join(runner.work_dir, 'epoch_1.pth')
    stock = Runner.from_cfg(stock_cfg)
    assert stock.val() == student
    # the student's class-agnostic AP is that metric on a stock ValLoop
    agnostic_cfg = toy_cfg(tmp_path / 'agnostic', data_root, val_loop=False)
    agnostic_cfg.load_from = stock_cfg.load_from
    agnostic_cfg.val_evaluator.type = 'ClassAgnosticCocoMetric'
    assert Runner.from_cfg(agnostic_cfg).val() == {
        k: v for k, v in metrics.items() if k.startswith('coco_agnostic/')}
    outputs_s = model.val_step(next(iter(loop.dataloader)))
    model.predict_with_teacher = True
    outputs_t = model.val_step(next(iter(loop.dataloader)))
    model.predict_with_teacher = False
    assert not all(
        (s.pred_instances.scores.shape == t.pred_instances.scores.shape
         and (s.pred_instances.scores == t.pred_instances.scores).all())
        for s, t in zip(outputs_s, outputs_t))


def test_plain_detector_is_an_error(tmp_path, data_root):
    cfg = toy_cfg(tmp_path, data_root, path=BASE)
    cfg.custom_hooks = []
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError, match='stock ValLoop'):
        runner.val()


def test_teacher_less_distiller_is_an_error(tmp_path, data_root):
    # (a distiller with only a pretrained teacher)
    runner = Runner.from_cfg(toy_cfg(tmp_path, data_root))
    runner.model.terms = torch.nn.ModuleList()
    with pytest.raises(ValueError, match='without a label teacher'):
        runner.val()
