"""The label teacher's probes on cases whose answer is known by
construction, through a real toy SSSDDistiller and its data."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmdet_sssd  # noqa: F401
from mmdet_sssd.analysis import (attention_routing, collect_teacher_probes,
                                 keep_one_object, probe_report)
from mmdet_sssd.models.teachers import LabelEncoderTeacher
from mmdet_sssd.models.teachers.box_grid import paint_boxes
from mmdet_sssd.testing import make_toy_coco

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOY = osp.join(ROOT, 'configs', 'toy', 'sssd_retinanet_r18-tiny_fpn_toy.py')


@MODELS.register_module(force=True)
class _PaintedClassTeacher(LabelEncoderTeacher):
    """Maps that hold each box's class by construction (its one-hot on the
    first K channels), or, with ``blind``, a constant on every box."""

    def __init__(self, blind=False, **kwargs):
        super().__init__(**kwargs)
        self.blind = blind

    def forward(self, feats, batch_data_samples):
        state = self.relate(feats, batch_data_samples)
        objs = ~state['is_context']
        onehot = state['descriptors'][objs, 4:] > 0.5
        values = torch.ones_like(onehot[:, :1]).float() if self.blind \
            else onehot.float()
        values = torch.cat([values, values.new_zeros(
            len(values), self.in_channels - values.size(1))], 1)
        return tuple(
            paint_boxes(values, state['img_ids'][objs], cells[objs],
                        f.size(0), f.shape[-2:])
            for f, cells in zip(feats, state['cells']))


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    register_all_modules()
    root = str(tmp_path_factory.mktemp('probes'))
    make_toy_coco(root, num_train=24, num_val=12)
    cfg = Config.fromfile(TOY)
    datasets = []
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        ds = loader.dataset.copy()
        ds.data_root = root
        ds.pipeline = cfg.val_dataloader.dataset.pipeline
        ds.pop('filter_cfg', None)
        datasets.append(DATASETS.build(ds))
    return cfg, datasets


def build(cfg, **teacher):
    model_cfg = cfg.model.copy()
    model_cfg.teacher = dict(model_cfg.get('teacher') or {}, **teacher)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def report(model, datasets, single_object=False):
    return probe_report(*(
        collect_teacher_probes(model, ds, 100, batch_size=4,
                               single_object=single_object)
        for ds in datasets))


def test_maps_that_hold_the_class_pass_and_blind_ones_fail(setup):
    cfg, datasets = setup
    holds = report(build(cfg, type='_PaintedClassTeacher'), datasets)
    blind = report(build(cfg, type='_PaintedClassTeacher', blind=True),
                   datasets)
    # on the finest level each box has cells of its own; on the coarse
    # levels of a 64x64 image boxes share cells (their means mix classes)
    assert holds['teacher_maps'][0] == 1.0
    assert all(h >= b + 0.3 for h, b in zip(holds['teacher_maps'],
                                            blind['teacher_maps']))
    # a constant on every box: the probe can only guess
    assert all(acc <= blind['majority_class'] + 1e-6
               for acc in blind['teacher_maps'])
    # the label embeddings hold it in both (they see the one-hot)
    assert holds['label_embeddings'] > blind['majority_class']
    # the student's maps are the same model's: the same probe
    assert holds['student_maps'] == blind['student_maps']


def test_own_weight_is_the_attention_weight_on_its_own_label(setup):
    cfg, datasets = setup
    model = build(cfg)
    model.eval()
    teacher = model.teacher
    data = model.data_preprocessor(
        {'inputs': [datasets[1][0]['inputs']],
         'data_samples': [datasets[1][0]['data_samples']]}, False)
    samples = data['data_samples']
    with torch.no_grad():
        feats = model.student.extract_feat(data['inputs'])
        state = teacher.relate(feats, samples, need_weights=True)
        # an independent computation: every key of the one image
        kv = teacher.kv_proj(state['label_embeddings'])[None]
        for obj in range(len(kv[0])):
            _, w = teacher.relation(state['appearance'][obj][None], kv, kv)
            assert torch.allclose(state['own_weight'][obj], w[0, :, obj],
                                  atol=1e-6)
        # the output is forward's
        maps = teacher(feats, samples)
    assert len(maps) == len(feats)


def test_single_object_control(setup):
    cfg, datasets = setup
    model = build(cfg)
    full = collect_teacher_probes(model, datasets[1], 100, batch_size=4)
    one = collect_teacher_probes(model, datasets[1], 100, batch_size=4,
                                 single_object=True)
    # one object and the context box per image: 2 keys
    assert len(one['labels']) == len(datasets[1])
    assert (one['num_keys'] == 2).all()
    assert (full['num_keys'] >= 2).all() and (full['num_keys'] > 2).any()
    routing = attention_routing(one['own_weight'], one['num_keys'])
    assert routing['chance'] == pytest.approx(0.5)
    samples = [datasets[1][i]['data_samples'] for i in range(3)]
    kept = keep_one_object(samples)
    assert [len(s.gt_instances) for s in kept] == [1, 1, 1]
    assert [len(s.gt_instances) for s in samples] != [1, 1, 1]  # copies


def test_attention_routing_by_hand():
    # two objects with 3 keys, one with 2: chance (1/3 + 1/3 + 1/2) / 3
    own = np.array([[1 / 3, 1 / 3], [0.5, 0.7], [0.5, 0.5]])
    got = attention_routing(own, np.array([3, 3, 2]))
    assert got['own'] == pytest.approx(own.mean())
    assert got['chance'] == pytest.approx((1 / 3 + 1 / 3 + 1 / 2) / 3)
    assert got['ratio'] == pytest.approx(got['own'] / got['chance'])
