# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
from typing import List, Optional

from mmengine.config import Config


def load_gt_first(pipeline: List[dict]) -> List[dict]:
    """A copy of a test pipeline that loads the GT boxes right after the
    image, so that ``Resize`` and the other geometric transforms also move
    them into the network input's coordinates.

    The label teacher needs the GT of a test image in those coordinates;
    stock test pipelines load it after ``Resize`` (for the metric only), in
    the original image's. A missing ``LoadAnnotations`` is added.

    Args:
        pipeline (list[dict]): Transform configs; the first ``LoadImage*``
            loads the image.

    Returns:
        list[dict]: The reordered copy.
    """
    pipeline = [copy.deepcopy(t) for t in pipeline]
    loads = [t for t in pipeline if t.get('type') == 'LoadAnnotations']
    rest = [t for t in pipeline if t.get('type') != 'LoadAnnotations']
    image = next((i for i, t in enumerate(rest)
                  if str(t.get('type', '')).startswith('LoadImage')), None)
    if image is None:
        raise ValueError(f'load_gt_first: no LoadImage* transform in the '
                         f'pipeline {[t.get("type") for t in pipeline]}')
    gt = loads[0] if loads else dict(type='LoadAnnotations', with_bbox=True)
    gt['with_bbox'] = True
    return rest[:image + 1] + [gt] + rest[image + 1:]


def pipeline_dataset(dataset_cfg: dict) -> dict:
    """The dataset config that holds the ``pipeline``: the innermost
    through wrappers (``RepeatDataset``, ``ClassBalancedDataset``... whose
    ``dataset`` is a dict); the last wrapper if none holds one."""
    node = dataset_cfg
    while 'pipeline' not in node and isinstance(node.get('dataset'), dict):
        node = node['dataset']
    return node


def load_teacher_config(path: str, cfg_options: Optional[dict] = None
                        ) -> Config:
    """Load a config for the tools that run the label teacher on test
    images (``tools/analysis_tools/vis_teacher.py``,
    ``tools/analysis_tools/eval_teacher.py``...).

    Merges ``cfg_options``, checks that the model is an ``SSSDDistiller``
    with a label teacher, and reorders the val and test pipelines with
    :func:`load_gt_first`.

    Raises:
        ValueError: The config has no label teacher.
    """
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.model.get('type') != 'SSSDDistiller' or cfg.model.get(
            'teacher', {}) is None:
        raise ValueError(f'{path}: model is {cfg.model.get("type")}, not an '
                         f'SSSDDistiller with a label teacher: there is no '
                         f'teacher to run')
    for loader in ('val_dataloader', 'test_dataloader'):
        dataset = cfg.get(loader, {}).get('dataset')
        if dataset is not None and 'pipeline' in dataset:
            dataset.pipeline = load_gt_first(dataset.pipeline)
    return cfg
