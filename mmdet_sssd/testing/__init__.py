# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Small real detectors from mmdet's stock configs, for tests and demos."""
import copy

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config

# Channel widths of a stock R-50-FPN detector -> the shrunk ones.
_WIDTHS = {256: 32, 512: 64, 1024: 64, 2048: 128}
_WIDTH_KEYS = ('in_channels', 'feat_channels', 'out_channels',
               'fc_out_channels', 'conv_out_channels', 'embed_dims')


def _shrink(cfg):
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key in _WIDTH_KEYS and isinstance(value, int):
                cfg[key] = _WIDTHS.get(value, value)
            elif key == 'stacked_convs' and isinstance(value, int):
                cfg[key] = min(value, 1)
            elif key == 'num_groups' and isinstance(value, int):
                # GN(32) on 32 channels would normalise single values on
                # the 1x1 top level of tiny images
                cfg[key] = min(value, 8)
            else:
                _shrink(value)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            _shrink(item)
    return cfg


def get_stock_config(name: str) -> Config:
    """A stock mmdet config, e.g. ``'retinanet/retinanet_r50_fpn_1x_coco.py'``.

    Works with a pip-installed mmdet (``mmdet.testing.get_detector_cfg``
    needs a source checkout).
    """
    return get_config(f'mmdet::{name}')


def shrink_detector_cfg(model: dict) -> ConfigDict:
    """A detector's ``model`` config shrunk for CPU tests (a copy).

    ResNet backbones become ResNet-18 with 16 base channels (a caffe-style
    one becomes pytorch-style, with the matching preprocessor); CSPDarknet/
    CSPNeXt backbones get a widen factor of 1/8; necks and heads get 32
    channels and one stacked conv; no pretrained weights are loaded
    (``init_cfg=None``).
    """
    model = copy.deepcopy(ConfigDict(model))
    backbone = model.backbone
    backbone.pop('init_cfg', None)
    if backbone.type == 'ResNet':
        backbone.update(depth=18, base_channels=16)
        backbone.pop('dcn', None)
        backbone.pop('stage_with_dcn', None)
        backbone_out = [16 * 2**i for i in backbone.get('out_indices', (0, 1, 2, 3))]
        if backbone.get('style') == 'caffe':
            model.data_preprocessor.update(
                mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                bgr_to_rgb=True)
            backbone.style = 'pytorch'
        _shrink(model.neck)
        model.neck.in_channels = backbone_out
    elif backbone.type in ('CSPDarknet', 'CSPNeXt'):
        # P3-P5 of these backbones are 256/512/1024 channels x widen_factor.
        backbone.update(widen_factor=0.125, deepen_factor=0.33)
        model.neck.update(
            in_channels=[32, 64, 128], out_channels=32, num_csp_blocks=1)
        model.bbox_head.update(in_channels=32, feat_channels=32)
    else:
        raise ValueError(f'shrink_detector_cfg: no rule to shrink a '
                         f'{backbone.type} backbone')
    for key in ('bbox_head', 'rpn_head', 'roi_head'):
        if key in model:
            _shrink(model[key])
            _shrink_default_gn(model[key])
    return model


def _shrink_default_gn(head: dict) -> None:
    """A head whose class defaults to GroupNorm(32) (FCOS...) gets 8
    groups, like the ones its config names (:func:`_shrink`)."""
    if 'norm_cfg' in head or 'type' not in head:
        return
    import inspect

    import mmdet.models  # noqa: F401 (registers the heads)
    from mmdet.registry import MODELS
    param = inspect.signature(
        MODELS.get(head['type']).__init__).parameters.get('norm_cfg')
    default = getattr(param, 'default', None)
    if isinstance(default, dict) and default.get('type') == 'GN':
        head['norm_cfg'] = dict(
            default, num_groups=min(default.get('num_groups', 1), 8))


def tiny_detector_cfg(name: str, num_classes: int = None) -> ConfigDict:
    """The ``model`` of a stock mmdet config, shrunk for CPU tests
    (:func:`shrink_detector_cfg`).

    Args:
        name (str): Config path under mmdet's ``configs/``.
        num_classes (int, optional): Overrides every head's classes.
    """
    model = shrink_detector_cfg(get_stock_config(name).model)
    if num_classes is not None:
        _set_num_classes(model, num_classes)
    return model


def _set_num_classes(cfg, num_classes: int) -> None:
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'num_classes' and value != 1:  # RPN keeps 1
                cfg[key] = num_classes
            else:
                _set_num_classes(value, num_classes)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            _set_num_classes(item, num_classes)


TOY_CLASSES = ('rectangle', 'ellipse', 'cross')


def make_toy_coco(root: str,
                  num_train: int = 8,
                  num_val: int = 4,
                  size: int = 64,
                  seed: int = 0,
                  classes=TOY_CLASSES) -> None:
    """Write a tiny COCO-format dataset of shapes on noise to ``root``:
    ``images/*.png``, ``train.json`` and ``val.json``, as read by
    ``configs/toy/``. Every image has 1-3 objects; object ``i`` is drawn as
    shape ``label % 3`` (rectangle, ellipse, cross) and named
    ``classes[label]``."""
    import json
    import os

    import cv2
    import numpy as np

    rng = np.random.RandomState(seed)
    os.makedirs(os.path.join(root, 'images'), exist_ok=True)
    categories = [dict(id=i + 1, name=n) for i, n in enumerate(classes)]
    for split, num in (('train', num_train), ('val', num_val)):
        images, annotations = [], []
        for i in range(num):
            name = f'{split}_{i:04d}.png'
            img = rng.randint(0, 60, (size, size, 3)).astype(np.uint8)
            for _ in range(rng.randint(1, 4)):
                w, h = (int(v) for v in rng.randint(size // 6, size // 2, 2))
                x, y = int(rng.randint(0, size - w)), int(rng.randint(0, size - h))
                label = int(rng.randint(len(classes)))
                color = tuple(int(c) for c in rng.randint(120, 256, 3))
                if label % 3 == 0:
                    cv2.rectangle(img, (x, y), (x + w - 1, y + h - 1), color, -1)
                elif label % 3 == 1:
                    cv2.ellipse(img, (x + w // 2, y + h // 2), (w // 2, h // 2),
                                0, 0, 360, color, -1)
                else:
                    cv2.line(img, (x, y), (x + w - 1, y + h - 1), color, 3)
                    cv2.line(img, (x + w - 1, y), (x, y + h - 1), color, 3)
                annotations.append(
                    dict(id=len(annotations) + 1, image_id=i + 1,
                         category_id=label + 1, bbox=[x, y, w, h],
                         area=float(w * h), iscrowd=0))
            cv2.imwrite(os.path.join(root, 'images', name), img)
            images.append(dict(id=i + 1, file_name=name, width=size,
                               height=size))
        with open(os.path.join(root, f'{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
