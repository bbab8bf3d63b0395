# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A deterministic COCO-format detection dataset of handwritten digits.

The digits are the 1797 real 8x8 handwritten digits that ship inside
scikit-learn (``sklearn.datasets.load_digits``, no download). Each image
holds several of them at varied scale (small to large COCO objects), position
and contrast, some overlapping, on a cluttered background (smooth colour
noise, strokes and digit-like fragments). Train and val use disjoint source
digits. A fixed seed gives byte-identical files.
"""
import json
import os
import os.path as osp
from typing import Dict, Optional, Tuple

import cv2
import numpy as np

from .coco_layout import IMAGE_SIZE as COCO_IMAGE_SIZE
from .coco_layout import MAX_IOU as COCO_MAX_IOU
from .coco_layout import (COCO_SIZED_LAYOUTS, LAYOUTS, SIDE_RANGES,
                          coco_counts_layout, coco_layout, coco_sizes_layout,
                          log_uniform_side)

CLASSES = tuple(str(i) for i in range(10))
# Bumped whenever the same arguments would write other images, so that the
# benchmark regenerates an old data folder (and its pretrained backbone).
# 2: clearer digits (contrast, colour), lighter clutter; see the docs.
GENERATOR_VERSION = 2


def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            'the digits dataset needs scikit-learn (an optional dependency '
            'of the demo): pip install scikit-learn') from e
    digits = load_digits()
    return digits.images.astype(np.float32) / 16.0, digits.target


def _background(rng: np.random.RandomState, size: int, sources: np.ndarray):
    """Smooth colour noise, random strokes and digit fragments."""
    coarse = rng.uniform(0, 1, (4, 4, 3)).astype(np.float32)
    img = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img * rng.uniform(0.2, 0.6) + rng.uniform(0, 0.3), 0, 1)
    img += rng.normal(0, 0.04, img.shape).astype(np.float32)
    for _ in range(rng.randint(1, 4)):  # strokes
        p1 = tuple(int(v) for v in rng.randint(0, size, 2))
        p2 = tuple(int(v) for v in rng.randint(0, size, 2))
        color = tuple(float(v) for v in rng.uniform(0, 1, 3))
        cv2.line(img, p1, p2, color, 1)
    for _ in range(rng.randint(0, 3)):  # fragments: part of a digit
        digit = sources[rng.randint(len(sources))]
        y, x = rng.randint(0, 4, 2)
        part = digit[y:y + 4, x:x + 4]
        s = int(rng.randint(8, 24))
        part = cv2.resize(part, (s, s), interpolation=cv2.INTER_LINEAR)
        px, py = rng.randint(0, size - s, 2)
        color = rng.uniform(0, 1, 3).astype(np.float32)
        region = img[py:py + s, px:px + s]
        alpha = part[..., None] * 0.6
        img[py:py + s, px:px + s] = region * (1 - alpha) + color * alpha
    return img


def paste_glyph(rng: np.random.RandomState, img: np.ndarray,
                glyph: np.ndarray, x0: int, y0: int) -> None:
    """Blend a resized glyph (s x s, values in [0, 1]) into ``img`` at
    (x0, y0) with a random colour and contrast, in place."""
    s = glyph.shape[0]
    contrast = rng.uniform(0.7, 1.0)
    bg_mean = img[y0:y0 + s, x0:x0 + s].mean(axis=(0, 1))
    # visible against the local background: darker on a light background,
    # lighter on a dark one, by 0.35-0.7 in every channel (a random tint)
    sign = -1.0 if bg_mean.mean() > 0.5 else 1.0
    color = np.clip(bg_mean + sign * rng.uniform(0.35, 0.7, 3), 0,
                    1).astype(np.float32)
    alpha = np.clip(glyph, 0, 1)[..., None] * contrast
    region = img[y0:y0 + s, x0:x0 + s]
    img[y0:y0 + s, x0:x0 + s] = region * (1 - alpha) + color * alpha


def split_sources(seed: int = 0):
    """The source digits of each split: ``(images, labels)`` for
    ``'train'`` and ``'val'``, disjoint (80% / 20% of the 1797), as used by
    :func:`generate_digits_coco` with the same ``seed``."""
    sources, labels = _load_digits()
    order = np.random.RandomState(seed).permutation(len(sources))
    split = int(len(sources) * 0.8)
    return dict(train=(sources[order[:split]], labels[order[:split]]),
                val=(sources[order[split:]], labels[order[split:]]))


def _iou(box, boxes):
    if not len(boxes):
        return np.zeros(0)
    boxes = np.asarray(boxes, dtype=np.float32)
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area(box) + area(boxes) - inter)


def _objects(rng, labels, layout, min_digits, max_digits, min_scale,
             max_scale):
    """Yields (source index, glyph side) of one image's digits, drawn as
    they are placed (the default layout's random stream is the one of
    generator 2)."""
    if layout != 'digits':
        if layout == 'coco':
            objects = coco_layout(rng, len(CLASSES))
        elif layout == 'coco-counts':
            objects = coco_counts_layout(rng, len(CLASSES), min_scale,
                                         max_scale)
        else:
            objects = coco_sizes_layout(rng, len(CLASSES), min_digits,
                                        max_digits)
        for label, side in objects:
            of_class = np.flatnonzero(labels == label)
            yield of_class[rng.randint(len(of_class))], side
        return
    for _ in range(rng.randint(min_digits, max_digits + 1)):
        s = log_uniform_side(rng, min_scale, max_scale)
        yield rng.randint(len(labels)), s


def _make_split(rng, sources, labels, num_images, size, min_digits,
                max_digits, min_scale, max_scale, max_iou, img_dir, prefix,
                layout='digits'):
    images, annotations = [], []
    for img_id in range(1, num_images + 1):
        img = _background(rng, size, sources)
        boxes = []
        for idx, s in _objects(rng, labels, layout, min_digits, max_digits,
                               min_scale, max_scale):
            glyph = cv2.resize(sources[idx], (s, s),
                               interpolation=cv2.INTER_LINEAR)
            ys, xs = np.nonzero(glyph > 0.2)
            if not len(xs):
                continue
            for _ in range(10):  # a position with at most a little overlap
                x0, y0 = rng.randint(0, size - s + 1, 2)
                box = np.array([x0 + xs.min(), y0 + ys.min(),
                                x0 + xs.max() + 1, y0 + ys.max() + 1],
                               dtype=np.float32)
                if not (_iou(box, boxes) > max_iou).any():
                    break
            else:
                continue
            paste_glyph(rng, img, glyph, x0, y0)
            boxes.append(box)
            x1, y1, x2, y2 = (float(v) for v in box)
            annotations.append(
                dict(id=len(annotations) + 1, image_id=img_id,
                     category_id=int(labels[idx]) + 1,
                     bbox=[x1, y1, x2 - x1, y2 - y1],
                     area=(x2 - x1) * (y2 - y1), iscrowd=0))
        name = f'{prefix}_{img_id:05d}.png'
        out = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
        cv2.imwrite(osp.join(img_dir, name), out)
        images.append(dict(id=img_id, file_name=name, height=size,
                           width=size))
    return images, annotations


def generate_digits_coco(out_dir: str,
                         num_train: int = 1000,
                         num_val: int = 200,
                         image_size: Optional[int] = None,
                         min_digits: int = 2,
                         max_digits: int = 6,
                         min_scale: int = 10,
                         max_scale: int = 48,
                         max_iou: Optional[float] = None,
                         seed: int = 0,
                         num_test: int = 0,
                         splits: Tuple[str, ...] = ('train', 'val', 'test'),
                         layout: str = 'digits') -> Dict[str, str]:
    """Write ``images/`` and ``train.json``/``val.json`` (and
    ``test.json`` if ``num_test``) to ``out_dir``.

    Args:
        out_dir (str): Output folder.
        num_train (int): Train images. Defaults to 1000.
        num_val (int): Val images. Defaults to 200.
        image_size (int, optional): Square image side in pixels. Defaults
            to 96 (192 for ``layout='coco'`` and ``'coco-sizes'``).
        min_digits (int): Fewest digits per image. Defaults to 2.
        max_digits (int): Most digits per image. Defaults to 6.
        min_scale (int): Smallest digit side (the 8x8 glyph, resized).
        max_scale (int): Largest digit side.
        max_iou (float, optional): Most overlap (IoU) of a digit's box with
            the boxes placed before it. Defaults to 0.15 (0.4 for
            ``layout='coco'`` and ``'coco-sizes'``).
        seed (int): Seed; the same seed writes the same bytes.
        num_test (int): Test images, drawn like val's from val's source
            digits with a random stream of their own: a larger held-out
            split on which the benchmark reports, its val split staying
            the per-epoch curve. Defaults to 0 (no test split).
        splits (tuple[str]): The splits to write (each split's images do
            not depend on the others', so a test split can be added to an
            existing folder). Defaults to all three.
        layout (str): ``'digits'``: ``min_digits`` to ``max_digits`` digits
            of any class at log-uniform sides from ``min_scale`` to
            ``max_scale`` (the benchmark's scenes). ``'coco'``: COCO's
            instances and categories per image and its small / medium /
            large mix (:mod:`.coco_layout`; those four arguments are not
            used), which needs ``image_size >= 160`` (default 192).
            ``'coco-counts'``: COCO's instances and categories per image
            at the ``'digits'`` sides, image and overlap;
            ``'coco-sizes'``: the ``'digits'`` counts of independent
            classes at COCO's sizes, image and overlap (the two factors
            of ``'coco'`` apart; :mod:`.coco_layout`).

    Returns:
        dict: Paths of the annotation files written, by split name.
    """
    if layout not in LAYOUTS:
        raise ValueError(f'layout must be one of {LAYOUTS}, got {layout!r}')
    # COCO's sizes: the large objects' image and overlap
    coco = layout in COCO_SIZED_LAYOUTS
    image_size = image_size or (COCO_IMAGE_SIZE if coco else 96)
    max_iou = max_iou if max_iou is not None else (
        COCO_MAX_IOU if coco else 0.15)
    if coco and image_size < SIDE_RANGES['large'][1] + 10:
        largest = SIDE_RANGES['large'][1]
        raise ValueError(f"layout={layout!r} has large objects (COCO's "
                         f'area > 96^2) up to {largest} pixels: use '
                         f'image_size >= {largest + 10}, got {image_size}')
    if not 0 < min_scale <= max_scale <= image_size:
        raise ValueError(f'need 0 < min_scale <= max_scale <= image_size, '
                         f'got {min_scale}, {max_scale}, {image_size}')
    # Disjoint source digits: val and test digits are never seen in training.
    sources = split_sources(seed)
    sources['test'] = sources['val']
    img_dir = osp.join(out_dir, 'images')
    os.makedirs(img_dir, exist_ok=True)
    categories = [dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)]
    paths = {}
    for offset, (name, num) in enumerate([('train', num_train),
                                          ('val', num_val),
                                          ('test', num_test)]):
        if name not in splits or (name == 'test' and not num):
            continue
        rng = np.random.RandomState(seed * 1000 + offset + 1)
        images, annotations = _make_split(
            rng, *sources[name], num, image_size, min_digits,
            max_digits, min_scale, max_scale, max_iou, img_dir, name,
            layout)
        paths[name] = osp.join(out_dir, f'{name}.json')
        with open(paths[name], 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f, sort_keys=True)
    return paths
