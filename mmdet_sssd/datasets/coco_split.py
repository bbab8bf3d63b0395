# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A labeled / unlabeled split of a COCO annotation file, for measuring
what unlabeled images add (SAD on the digits benchmark)."""
import json
import random
from typing import Tuple


def split_coco_labeled(ann_file: str, labeled_out: str, unlabeled_out: str,
                       fraction: float, seed: int = 0) -> Tuple[int, int]:
    """Writes ``labeled_out`` (a ``fraction`` of the images, drawn with
    ``seed``, with their annotations) and ``unlabeled_out`` (the other
    images as a COCO image list: ``images`` and ``categories``, no
    annotations), both in the input's image order. Deterministic.

    Returns:
        tuple[int, int]: Numbers of labeled and unlabeled images.
    """
    if not 0 < fraction < 1:
        raise ValueError(f'split_coco_labeled: fraction must be in (0, 1), '
                         f'got {fraction}')
    with open(ann_file) as f:
        coco = json.load(f)
    ids = [img['id'] for img in coco['images']]
    num = max(1, round(len(ids) * fraction))
    chosen = set(random.Random(seed).sample(ids, num))
    labeled = dict(coco,
                   images=[i for i in coco['images'] if i['id'] in chosen],
                   annotations=[a for a in coco['annotations']
                                if a['image_id'] in chosen])
    unlabeled = dict(
        images=[i for i in coco['images'] if i['id'] not in chosen],
        categories=coco['categories'])
    for path, content in ((labeled_out, labeled), (unlabeled_out, unlabeled)):
        with open(path, 'w') as f:
            json.dump(content, f)
    return num, len(ids) - num
