# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Pseudo-labels for SAD: a detector's detections on unlabeled images as a
COCO file that mmdet's ``CocoDataset`` reads
(``tools/dataset_converters/pseudo_label.py``)."""
import glob
import json
import os.path as osp
import time
from typing import List, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.utils import ProgressBar

from .teacher_config import pipeline_dataset

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def list_images(images: str, img_dir: Optional[str] = None) -> List[dict]:
    """The images to label, as COCO ``images`` entries plus ``path``.

    Args:
        images (str): A folder (its image files, recursively, sorted; ids
            1..N) or a COCO json whose ``images`` list them (e.g.
            ``image_info_unlabeled2017.json``; ids and file names kept).
        img_dir (str, optional): Folder of a json's ``file_name`` entries.
            Defaults to the json's folder.
    """
    if osp.isdir(images):
        paths = sorted(p for p in glob.glob(osp.join(images, '**', '*'),
                                            recursive=True)
                       if p.lower().endswith(IMAGE_EXTENSIONS))
        entries = [dict(id=i + 1, file_name=osp.relpath(p, images), path=p)
                   for i, p in enumerate(paths)]
    elif osp.isfile(images) and images.endswith('.json'):
        with open(images) as f:
            listed = json.load(f).get('images')
        if not isinstance(listed, list):
            raise ValueError(f'pseudo_label: {images} has no "images" list '
                             f'(a COCO image-info file is expected)')
        root = img_dir or osp.dirname(images)
        entries = [dict(info, path=osp.join(root, info['file_name']))
                   for info in listed]
    else:
        raise FileNotFoundError(
            f'pseudo_label: {images} is neither a folder of images nor a '
            f'COCO .json image list')
    if not entries:
        raise ValueError(f'pseudo_label: no images found in {images} '
                         f'(extensions {", ".join(IMAGE_EXTENSIONS)})')
    missing = [e['path'] for e in entries if not osp.isfile(e['path'])]
    if missing:
        raise FileNotFoundError(
            f'pseudo_label: {len(missing)} listed images do not exist, e.g. '
            f'{missing[0]}; pass --img-dir, the folder of the file names')
    return entries


def inference_pipeline(cfg: Config) -> Compose:
    """The pipeline the config tests with (its ``test_dataloader``'s, not
    a top-level ``test_pipeline`` variable, which a config may inherit
    unused from its stock base) without its annotation loading."""
    loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
    dataset = pipeline_dataset(loader.get('dataset', {}))
    pipeline = dataset.get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise ValueError('pseudo_label: the config has no test_dataloader '
                         'pipeline (nor test_pipeline) to read images with')
    return Compose([t for t in pipeline if t['type'] != 'LoadAnnotations'])


def categories_for(classes: Sequence[str],
                   categories_from: Optional[str] = None) -> List[dict]:
    """COCO categories in the order of the model's labels: those of
    ``categories_from`` (a labeled set's annotation file, so that both
    files use the same ids), matched by name, or ids 1..K."""
    if categories_from is None:
        return [dict(id=i + 1, name=name) for i, name in enumerate(classes)]
    with open(categories_from) as f:
        by_name = {c['name']: c for c in json.load(f)['categories']}
    missing = [c for c in classes if c not in by_name]
    if missing:
        raise ValueError(f'pseudo_label: classes {missing} of the model are '
                         f'not categories of {categories_from}')
    return [dict(id=by_name[c]['id'], name=c) for c in classes]


@torch.no_grad()
def pseudo_label(model: torch.nn.Module,
                 pipeline: Compose,
                 images: List[dict],
                 categories: List[dict],
                 score_thr: float,
                 batch_size: int = 8,
                 keep_empty: bool = False,
                 info: Optional[dict] = None,
                 progress: bool = True) -> dict:
    """Detections with score >= ``score_thr`` of every image as a COCO
    dict: boxes in original image pixels (``[x, y, w, h]``), ``score``
    kept per annotation. Images without one are left out, or kept with no
    annotation with ``keep_empty`` (mmdet's ``filter_empty_gt`` drops
    them from training unless it is off; then they count as background).

    Args:
        model: A detector in eval mode (mmdet's ``test_step``).
        pipeline: The test pipeline (from ``img_path``, ``img_id``).
        images: :func:`list_images` entries.
        categories: COCO categories in the order of the model's labels.
    """
    out_images, annotations, empty = [], [], 0
    bar = ProgressBar(len(images)) if progress else None
    for start in range(0, len(images), batch_size):
        chunk = images[start:start + batch_size]
        data = pseudo_collate([
            pipeline(dict(img_path=e['path'], img_id=e['id']))
            for e in chunk])
        for entry, result in zip(chunk, model.test_step(data)):
            height, width = result.ori_shape[:2]
            pred = result.pred_instances
            keep = pred.scores >= score_thr
            boxes, scores = pred.bboxes[keep].tolist(), pred.scores[keep]
            labels = pred.labels[keep].tolist()
            for box, score, label in zip(boxes, scores.tolist(), labels):
                x1, y1, x2, y2 = box
                w, h = x2 - x1, y2 - y1
                if w <= 0 or h <= 0:
                    continue
                annotations.append(dict(
                    id=len(annotations) + 1, image_id=entry['id'],
                    category_id=categories[label]['id'],
                    bbox=[round(v, 2) for v in (x1, y1, w, h)],
                    area=round(w * h, 2), iscrowd=0, score=round(score, 4)))
            found = annotations and annotations[-1]['image_id'] == entry['id']
            empty += not found
            if found or keep_empty:
                out_images.append(dict(id=entry['id'],
                                       file_name=entry['file_name'],
                                       width=int(width), height=int(height)))
            if bar:
                bar.update()
    info = dict(info or {}, description='pseudo-labels of tools/'
                'dataset_converters/pseudo_label.py', score_thr=score_thr,
                num_images=len(images), num_without_detection=empty,
                empty_images='kept' if keep_empty else 'left out',
                date=time.strftime('%Y-%m-%d %H:%M:%S'))
    return dict(info=info, images=out_images, annotations=annotations,
                categories=categories)
