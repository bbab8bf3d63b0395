"""fit_head on a real toy SSSDDistiller: only the head learns, from the
maps it was asked to fit."""
import os.path as osp

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmdet_sssd  # noqa: F401
from mmdet_sssd.analysis import fit_head
from mmdet_sssd.testing import make_toy_coco

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    register_all_modules()
    root = str(tmp_path_factory.mktemp('head_fit'))
    make_toy_coco(root, num_train=8, num_val=2)
    cfg = Config.fromfile(TOY)
    ds = cfg.train_dataloader.dataset.copy()
    ds.data_root = root
    dataset = DATASETS.build(ds)
    batch = pseudo_collate([dataset[i] for i in range(4)])
    return cfg, batch


def build(cfg):
    torch.manual_seed(0)
    model = MODELS.build(cfg.model.copy())
    model.init_weights()
    return model


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return {k for k, v in module.state_dict().items()
            if not torch.equal(before[k], v)}


@pytest.mark.parametrize('maps', ['teacher', 'student'])
def test_only_the_head_learns_and_its_loss_falls(setup, maps):
    cfg, batch = setup
    model = build(cfg)
    head = model.student.bbox_head
    frozen = dict(backbone=model.student.backbone, neck=model.student.neck,
                  teacher=model.teacher)
    before = {k: snapshot(m) for k, m in frozen.items()}
    head_before = snapshot(head)
    # one batch again and again: a head that fits it lowers its loss
    trace = fit_head(model, [batch], 30, maps=maps,
                     optimizer=dict(type='AdamW', lr=1e-2))
    assert len(trace) == 30
    assert all(torch.isfinite(torch.tensor(trace)))
    assert sum(trace[-5:]) < sum(trace[:5]), trace
    for key, module in frozen.items():
        assert not changed(before[key], module), key
    assert changed(head_before, head)


def test_the_two_maps_fit_different_heads(setup):
    cfg, batch = setup
    heads = []
    for maps in ('teacher', 'student'):
        model = build(cfg)
        fit_head(model, [batch], 3, maps=maps,
                 optimizer=dict(type='AdamW', lr=1e-2))
        heads.append(snapshot(model.student.bbox_head))
    assert any(not torch.equal(heads[0][k], heads[1][k]) for k in heads[0])


def test_bad_arguments_are_refused(setup):
    cfg, batch = setup
    model = build(cfg)
    with pytest.raises(ValueError, match="maps must be one of"):
        fit_head(model, [batch], 1, maps='both')
    with pytest.raises(ValueError, match='iters must be >= 1'):
        fit_head(model, [batch], 0)
    with pytest.raises(ValueError, match='the loader gave no batches'):
        fit_head(model, [], 1)  # not an endless loop
