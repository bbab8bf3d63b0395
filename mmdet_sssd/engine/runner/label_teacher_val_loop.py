# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A validation loop that scores the label teacher alongside the student."""
import copy
import logging
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader

from mmdet.registry import LOOPS

from mmdet_sssd.evaluation import class_agnostic_config
from mmdet_sssd.utils.teacher_config import load_gt_first, pipeline_dataset


def _dataset_with_pipeline(dataset_cfg: dict) -> dict:
    """The innermost dataset config that holds the ``pipeline``."""
    node = pipeline_dataset(dataset_cfg)
    if 'pipeline' not in node:
        raise ValueError(
            'LabelTeacherValLoop: the val dataset config has no pipeline '
            'to load the GT before Resize; give the loop a dataloader '
            'config with dataset.pipeline')
    return node


@LOOPS.register_module()
class LabelTeacherValLoop(ValLoop):
    """Validation that scores the student and its label teacher.

    Each val batch goes once through the student's backbone and neck, then
    through its head(s) twice (``SSSDDistiller.predict_pair``): on the
    student's maps (the student's predictions, as a stock ``ValLoop``
    gives them; its metrics keep their names, e.g. ``coco/bbox_mAP``, so
    ``save_best`` and the logs are unchanged) and on the label teacher's
    maps built from each image's GT. The
    teacher's results go to a copy of the evaluator and its metrics are
    logged with ``teacher_prefix``: ``teacher/coco/bbox_mAP``...

    The teacher needs each val image's GT in the network input's
    coordinates, so the loop moves ``LoadAnnotations`` right after the
    image loading in the val pipeline
    (:func:`mmdet_sssd.utils.load_gt_first`); the metric still reads the
    GT from its annotation file.

    With ``class_agnostic`` and a ``CocoMetric`` evaluator, both are also
    scored with every class merged into one
    (:class:`~mmdet_sssd.evaluation.ClassAgnosticCocoMetric`):
    ``coco_agnostic/bbox_mAP``... for the student,
    ``teacher/coco_agnostic/bbox_mAP``... for the teacher, so that finding
    the boxes and naming their class are seen apart.

    Use: ``val_cfg = dict(type='LabelTeacherValLoop')``. It costs the
    teacher, one more head pass per val image and a second evaluation, so
    COCO configs keep the stock ``ValLoop``.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The val dataloader; a dict's
            pipeline is reordered as above (a built DataLoader must already
            load the GT before ``Resize``).
        evaluator (Evaluator or dict or list): The student's evaluator; the
            teacher gets a copy built from the same config.
        fp16 (bool): Validate under autocast. Defaults to False.
        teacher_prefix (str): Prefix of the teacher's metric names.
            Defaults to ``'teacher'``.
        class_agnostic (bool): Also the class-agnostic AP of both (with a
            ``CocoMetric`` evaluator config; others are left as they are,
            with a log line). Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 teacher_prefix: str = 'teacher',
                 class_agnostic: bool = True) -> None:
        if isinstance(dataloader, dict):
            dataloader = copy.deepcopy(dataloader)
            node = _dataset_with_pipeline(dataloader['dataset'])
            node['pipeline'] = load_gt_first(node['pipeline'])
        teacher_evaluator = (copy.deepcopy(evaluator) if isinstance(
            evaluator, (dict, list)) else None)
        super().__init__(runner, dataloader, evaluator, fp16)
        if teacher_evaluator is None:
            teacher_evaluator = copy.deepcopy(self.evaluator)
        else:
            teacher_evaluator = runner.build_evaluator(teacher_evaluator)
        if hasattr(self.dataloader.dataset, 'metainfo'):
            teacher_evaluator.dataset_meta = self.dataloader.dataset.metainfo
        self.teacher_evaluator = teacher_evaluator
        self.teacher_prefix = teacher_prefix
        agnostic = class_agnostic_config(evaluator) if class_agnostic else None
        if class_agnostic and agnostic is None:
            print_log(
                'LabelTeacherValLoop: class_agnostic needs a CocoMetric '
                f'evaluator config, got {evaluator!r}; only the class-aware '
                'metrics are scored', logger='current', level=logging.WARNING)
        #: (student's, teacher's) class-agnostic evaluators, or None
        self.agnostic_evaluators = agnostic and tuple(
            runner.build_evaluator(copy.deepcopy(agnostic))
            for _ in range(2))
        for ev in self.agnostic_evaluators or ():
            if hasattr(self.dataloader.dataset, 'metainfo'):
                ev.dataset_meta = self.dataloader.dataset.metainfo

    @property
    def _distiller(self):
        model = self.runner.model
        if is_model_wrapper(model):
            model = model.module
        if not hasattr(model, 'predict_with_teacher') or getattr(
                model, 'teacher', None) is None:
            raise ValueError(
                f'LabelTeacherValLoop scores the label teacher of an '
                f'SSSDDistiller; the model is {type(model).__name__}'
                f'{" without a label teacher" if hasattr(model, "teacher") else ""}'  # noqa: E501
                f'. Use the stock ValLoop (val_cfg = dict(type=\'ValLoop\'))')
        return model

    def run(self) -> dict:
        """Score the student and the teacher; log both."""
        self._distiller  # fail before any hook runs if there is no teacher
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        size = len(self.dataloader.dataset)
        metrics = self.evaluator.evaluate(size)
        metrics.update(self._teacher_metrics())
        if self.agnostic_evaluators:
            student, teacher = self.agnostic_evaluators
            metrics.update(student.evaluate(size))
            metrics.update({f'{self.teacher_prefix}/{k}': v
                            for k, v in teacher.evaluate(size).items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    def _teacher_metrics(self) -> dict:
        size = len(self.dataloader.dataset)
        results = self.teacher_evaluator.evaluate(size)
        return {f'{self.teacher_prefix}/{k}': v for k, v in results.items()}

    @torch.no_grad()
    def run_iter(self, idx, data_batch: Sequence[dict]):
        """The student's predictions (as ``ValLoop``) and the teacher's,
        from one pass of the backbone and neck."""
        self.runner.call_hook(
            'before_val_iter', batch_idx=idx, data_batch=data_batch)
        model = self._distiller
        with autocast(enabled=self.fp16):
            data = model.data_preprocessor(data_batch, False)
            outputs, teacher_outputs = model.predict_pair(
                data['inputs'], data['data_samples'])
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.teacher_evaluator.process(
            data_samples=teacher_outputs, data_batch=data_batch)
        if self.agnostic_evaluators:
            for ev, out in zip(self.agnostic_evaluators,
                               (outputs, teacher_outputs)):
                ev.process(data_samples=out, data_batch=data_batch)
        self.runner.call_hook(
            'after_val_iter', batch_idx=idx, data_batch=data_batch,
            outputs=outputs)
