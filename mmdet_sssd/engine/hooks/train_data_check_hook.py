# Copyright (c) mmdet_sssd contributors. All rights reserved.
import json
import math
from collections import defaultdict
from typing import Dict, List

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.fileio import get_local_path
from mmengine.hooks import Hook


def _leaf_datasets(dataset) -> List:
    """The datasets inside mmengine's dataset wrappers."""
    if hasattr(dataset, 'datasets'):  # ConcatDataset
        return [d for ds in dataset.datasets for d in _leaf_datasets(ds)]
    if hasattr(dataset, 'dataset'):  # RepeatDataset, ClassBalancedDataset
        return _leaf_datasets(dataset.dataset)
    return [dataset]


@HOOKS.register_module()
class TrainDataCheckHook(Hook):
    """Checks the training data before the first iteration.

    Errors (``ValueError`` naming the images and the fix):

    - no training batch at all, e.g. every image was filtered out
      (``filter_cfg``) or the classes match no category;
    - a parsed box with a non-finite coordinate (mmdet keeps an infinite
      width and the ``Resize`` transform then clips it to a wrong box);
    - a label outside ``[0, num_classes)`` of the dataset's ``metainfo``.

    Logged fallback (``CocoDataset`` and subclasses, main process only): the
    annotation file is re-read once and the annotations that mmdet's
    ``CocoDataset.parse_data_info`` skips without a word are counted by
    reason, with example ids: width or height < 1 or area <= 0, no overlap
    with the image, non-finite numbers, category not in the classes.
    Training goes on without them. Re-reading costs about as long as
    building the dataset (tens of seconds for COCO train2017); set
    ``report_skipped=False`` to leave it out.

    Args:
        report_skipped (bool): Count the annotations CocoDataset skips.
            Defaults to True.
        max_examples (int): Examples listed per problem. Defaults to 5.
    """

    priority = 'VERY_HIGH'

    def __init__(self, report_skipped: bool = True,
                 max_examples: int = 5) -> None:
        self.report_skipped = report_skipped
        self.max_examples = max_examples

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        dataset = loader.dataset
        if len(dataset) == 0 or len(loader) == 0:
            raise ValueError(
                f'TrainDataCheckHook: the training set '
                f'({type(dataset).__name__}, '
                f'ann_file={getattr(dataset, "ann_file", None)!r}) yields no '
                f'batch: {len(dataset)} images after filtering. Check '
                f'ann_file, data_prefix and metainfo.classes, or set '
                f'train_dataloader.dataset.filter_cfg.filter_empty_gt=False '
                f'if every image is meant to be background')
        for leaf in _leaf_datasets(dataset):
            if not hasattr(leaf, 'get_data_info'):
                continue
            # mmengine serializes data_list; get_data_info unpacks one item
            infos = [leaf.get_data_info(i) for i in range(len(leaf))]
            self._check_parsed(leaf, infos)
            if self.report_skipped and is_main_process() and hasattr(
                    leaf, 'cat_ids') and getattr(leaf, 'ann_file', None):
                self._report_skipped(leaf, infos, runner.logger)

    def _check_parsed(self, dataset, infos: List[dict]) -> None:
        num_classes = len(dataset.metainfo.get('classes', ()))
        bad: Dict[str, List[str]] = defaultdict(list)
        for info in infos:
            for inst in info.get('instances', ()):
                where = f'{info.get("img_path")}: {inst.get("bbox")}'
                if not all(map(math.isfinite, inst.get('bbox', ()))):
                    bad['non-finite box'].append(where)
                label = inst.get('bbox_label', 0)
                if num_classes and not 0 <= label < num_classes:
                    bad[f'label {label} outside [0, {num_classes})'].append(
                        where)
        if bad:
            lines = [f'  {reason}: {len(items)}, e.g. '
                     f'{items[:self.max_examples]}'
                     for reason, items in bad.items()]
            raise ValueError(
                'TrainDataCheckHook: invalid training annotations in '
                f'{getattr(dataset, "ann_file", type(dataset).__name__)}:\n' +
                '\n'.join(lines) + '\nFix or remove these annotations.')

    def _report_skipped(self, dataset, infos: List[dict], logger) -> None:
        with get_local_path(dataset.ann_file) as path, open(path) as f:
            raw = json.load(f)
        images = {img['id']: img for img in raw.get('images', ())}
        used = {info['img_id'] for info in infos}
        cat_ids = set(dataset.cat_ids)
        skipped: Dict[str, List[int]] = defaultdict(list)
        for ann in raw.get('annotations', ()):
            img = images.get(ann.get('image_id'))
            if img is None or ann['image_id'] not in used or ann.get(
                    'ignore', False):
                continue
            x, y, w, h = ann['bbox']
            if not all(map(math.isfinite, (x, y, w, h, ann['area']))):
                skipped['non-finite bbox or area'].append(ann['id'])
            elif ann['area'] <= 0 or w < 1 or h < 1:
                skipped['width or height < 1 or area <= 0'].append(ann['id'])
            elif (min(x + w, img['width']) <= max(x, 0)
                  or min(y + h, img['height']) <= max(y, 0)):
                skipped['outside the image'].append(ann['id'])
            elif ann['category_id'] not in cat_ids:
                skipped['category not in metainfo.classes'].append(ann['id'])
        if not skipped:
            return
        total = sum(map(len, skipped.values()))
        lines = [f'  {reason}: {len(ids)} (annotation ids '
                 f'{ids[:self.max_examples]})'
                 for reason, ids in skipped.items()]
        logger.warning(
            f'TrainDataCheckHook: {dataset.ann_file}: mmdet\'s '
            f'{type(dataset).__name__} skips {total} annotations of the '
            f'training images; training goes on without them:\n' +
            '\n'.join(lines))
