# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Any shipped config, made to train a few iterations on a CPU test machine.

Only what cannot run there is swapped; the config's own model wrapper,
optimizer wrapper (clipping, lr multipliers), param schedulers, hooks and
pipelines stay as they are.
"""
import copy
import os
import os.path as osp
from typing import Optional, Tuple

import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config, ConfigDict

from . import make_toy_coco, shrink_detector_cfg

_SCALE_KEYS = ('scale', 'scales', 'img_scale')


def _train_dataset(dataset: dict) -> dict:
    """The innermost dataset of wrappers (``RepeatDataset``...); the first
    of a ``ConcatDataset``."""
    return _inner_datasets(dataset)[0]


def _inner_datasets(dataset: dict) -> list:
    """The datasets that read files, inside wrappers and concatenations."""
    while 'dataset' in dataset and 'ann_file' not in dataset:
        dataset = dataset['dataset']
    if 'datasets' in dataset and 'ann_file' not in dataset:
        return [d for inner in dataset['datasets']
                for d in _inner_datasets(inner)]
    return [dataset]


def dataset_classes(cfg: Config) -> Tuple[str, ...]:
    """Class names of a config's training set: its ``metainfo`` or its
    dataset type's defaults (80 COCO classes for ``CocoDataset``)."""
    dataset = _train_dataset(cfg.train_dataloader.dataset)
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        classes = DATASETS.get(dataset.type).METAINFO['classes']
    return tuple(classes)


def _small(value, factor: float):
    """A resize scale (or list of scales) reduced by ``factor``; scales of
    at most 200 pixels (already small) are kept."""
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (list, tuple)) for v in value):
        return [_small(v, factor) for v in value]
    if (isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) for v in value) and max(value) > 200):
        return tuple(max(int(round(v * factor)), 32) for v in value)
    return value


def _shrink_pipeline(pipeline, factor: float) -> None:
    for transform in pipeline or []:
        for key in _SCALE_KEYS:
            if key in transform:
                transform[key] = _small(transform[key], factor)
        for key in ('transforms', 'pipeline'):  # RandomChoice, MultiBranch
            inner = transform.get(key)
            if isinstance(inner, list):
                flat = [t for t in inner if isinstance(t, dict)]
                nested = [t for t in inner if isinstance(t, list)]
                _shrink_pipeline(flat, factor)
                for sub in nested:
                    _shrink_pipeline(sub, factor)


def _shrink_pretrained_teacher(teacher: dict, work_dir: str) -> None:
    """Shrinks the teacher like the student and writes its checkpoint
    (random weights: the file format and the loading path are real)."""
    from mmdet_sssd.models.teachers.frozen_detector import load_model_config
    model_cfg = shrink_detector_cfg(load_model_config(teacher['config']))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        model.init_weights()
    os.makedirs(work_dir, exist_ok=True)
    checkpoint = osp.join(work_dir, 'pretrained_teacher.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    teacher['config'] = model_cfg.to_dict()
    teacher['checkpoint'] = checkpoint


def cpu_smoke_config(cfg: Config,
                     data_root: str,
                     work_dir: str,
                     num_train: int = 2,
                     num_val: int = 1,
                     scale_factor: float = 0.1,
                     experiment_name: Optional[str] = None) -> Config:
    """A copy of ``cfg`` that trains ``num_train`` iterations (batch 1) and
    validates once on a CPU, in seconds.

    Swapped, and nothing else: the datasets' root and annotation files (a
    tiny COCO-format set with the config's own class names is written to
    ``data_root``), the evaluators' annotation files, the detector's size
    (:func:`shrink_detector_cfg`: ResNet-18/16 channels, ``init_cfg=None``;
    for a distiller, its ``detector``), a pretrained teacher's config and
    checkpoint (shrunk alike, random weights saved to ``work_dir``), image
    scales above 200 pixels (times ``scale_factor``), batch sizes (1, or
    one image per source with a multi-source sampler) and workers, the schedule length (one epoch of ``num_train`` images, or
    ``num_train`` iterations) and the work dir.

    Args:
        cfg (Config): A loaded config (``Config.fromfile``).
        data_root (str): Folder for the tiny dataset.
        work_dir (str): The runner's work dir.
        num_train (int): Training images = iterations. Defaults to 2.
        num_val (int): Validation images. Defaults to 1.
        scale_factor (float): Factor for large resize scales.
            Defaults to 0.1.
        experiment_name (str, optional): Unique per runner in a process
            (mmengine keys its logger and visualizer instances on it).

    Returns:
        Config: The swapped copy, for ``Runner.from_cfg``.
    """
    cfg = copy.deepcopy(cfg)
    data_root = osp.abspath(data_root)
    make_toy_coco(data_root, num_train=num_train, num_val=num_val,
                  classes=dataset_classes(cfg))

    model = cfg.model
    if 'detector' in model:
        model.detector = shrink_detector_cfg(model.detector)
        if model.get('pretrained_teacher'):
            _shrink_pretrained_teacher(model.pretrained_teacher, work_dir)
    else:
        cfg.model = shrink_detector_cfg(model)

    for name, ann in (('train', 'train.json'), ('val', 'val.json'),
                      ('test', 'val.json')):
        loader = cfg.get(f'{name}_dataloader')
        if loader is None:
            continue
        # a multi-source sampler: one image of each source per batch
        batch = len(loader.get('sampler', {}).get('source_ratio', [1]))
        loader.update(batch_size=batch, num_workers=0,
                      persistent_workers=False)
        if 'batch_size' in loader.get('sampler', {}):
            loader.sampler.batch_size = batch
        for dataset in _inner_datasets(loader.dataset):
            dataset.update(data_root=data_root, ann_file=ann,
                           data_prefix=dict(img='images/'))
            _shrink_pipeline(dataset.get('pipeline'), scale_factor)
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name)
        for evaluator in (evaluators if isinstance(evaluators, list) else
                          [evaluators] if evaluators else []):
            if 'ann_file' in evaluator:
                evaluator.ann_file = osp.join(data_root, 'val.json')

    train_cfg = cfg.train_cfg
    if train_cfg.get('type', 'EpochBasedTrainLoop') in (
            'EpochBasedTrainLoop', ) or 'max_epochs' in train_cfg:
        train_cfg.update(max_epochs=1, val_interval=1)
    else:
        train_cfg.update(max_iters=num_train, val_interval=num_train)
    cfg.work_dir = work_dir
    cfg.load_from = None
    cfg.resume = False
    cfg.launcher = 'none'
    cfg.default_hooks = cfg.get('default_hooks', ConfigDict())
    cfg.default_hooks.setdefault('logger', ConfigDict(type='LoggerHook'))
    cfg.default_hooks.logger.interval = 1
    if experiment_name is not None:
        cfg.experiment_name = experiment_name
    return cfg
