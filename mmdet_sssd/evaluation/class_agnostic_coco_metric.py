# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
from typing import Dict, Optional, Sequence

import torch
from mmcv.ops import nms
from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation.metrics import CocoMetric
from mmdet.registry import METRICS


def class_agnostic_config(evaluator) -> Optional[dict]:
    """The config of a class-agnostic copy (:class:`ClassAgnosticCocoMetric`,
    its own default prefix) of a ``CocoMetric`` evaluator config (a dict,
    or a list of one), else None."""
    if isinstance(evaluator, (list, tuple)) and len(evaluator) == 1:
        evaluator = evaluator[0]
    if not isinstance(evaluator, dict) or str(evaluator.get(
            'type', '')).split('.')[-1] != 'CocoMetric':
        return None
    cfg = copy.deepcopy(dict(evaluator))
    cfg.pop('prefix', None)
    cfg['type'] = 'ClassAgnosticCocoMetric'
    return cfg


@METRICS.register_module()
class ClassAgnosticCocoMetric(CocoMetric):
    """COCO box AP with every class merged into one: how well the boxes
    are found, whatever class they are given.

    Beside the ordinary AP it separates localisation from classification:
    a detector that finds every box and gets no class right (the label
    teacher of LGD's preset on the digits benchmark) scores high here and
    low in :class:`CocoMetric`.

    Predictions are relabelled to the first class; with ``nms_iou_thr``
    each image's boxes then go through one class-agnostic NMS, so that a
    box predicted once per class counts once (without it, the copies count
    as false positives, as pycocotools on class-merged files counts them).
    The ground truth of ``ann_file`` is merged the same way (a copy; the
    file is not touched).

    Args:
        nms_iou_thr (float, optional): IoU of the class-agnostic NMS; None
            keeps every predicted box. Defaults to 0.5 (RetinaNet's own
            per-class test NMS).
        prefix (str, optional): Metric name prefix; None (the
            default) gives :attr:`default_prefix`, ``'coco_agnostic'``.
        **kwargs: :class:`CocoMetric`'s arguments.
    """
    default_prefix: Optional[str] = 'coco_agnostic'

    def __init__(self,
                 nms_iou_thr: Optional[float] = 0.5,
                 prefix: Optional[str] = None,
                 **kwargs) -> None:
        if kwargs.get('metric', 'bbox') not in ('bbox', ['bbox']):
            raise ValueError('ClassAgnosticCocoMetric: only '
                             "metric='bbox' is supported, got "
                             f"{kwargs['metric']!r}")
        super().__init__(prefix=prefix, **kwargs)
        self.nms_iou_thr = nms_iou_thr
        self._merged = False

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Records the samples as :class:`CocoMetric` does, all labels 0."""
        super().process(data_batch, data_samples)
        for gt, result in self.results[-len(data_samples):]:
            if self.nms_iou_thr is not None and len(result['scores']):
                _, keep = nms(torch.from_numpy(result['bboxes']).float(),
                              torch.from_numpy(result['scores']).float(),
                              self.nms_iou_thr)
                keep = keep.numpy()
                result['bboxes'] = result['bboxes'][keep]
                result['scores'] = result['scores'][keep]
            result['labels'] = result['labels'][:len(result['scores'])] * 0
            for ann in gt.get('anns', []):
                ann['bbox_label'] = 0

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """:class:`CocoMetric`'s, on the merged GT (GT converted from the
        samples, without ``ann_file``, has its labels merged already)."""
        if self._coco_api is not None and not self._merged:
            first = self._coco_api.get_cat_ids(
                cat_names=self.dataset_meta['classes'])[0]
            self._coco_api = _merged_copy(self._coco_api, first)
            self._merged = True
        return super().compute_metrics(results)


def _merged_copy(coco: COCO, category_id: int) -> COCO:
    """A COCO api whose annotations all have ``category_id``."""
    dataset = copy.deepcopy(coco.dataset)
    for ann in dataset['annotations']:
        ann['category_id'] = category_id
    merged = COCO()
    merged.dataset = dataset
    merged.createIndex()
    return merged
