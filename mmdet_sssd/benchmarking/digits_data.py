# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The digits benchmark's data, made once into its data folder: the
dataset (mmdet_sssd.datasets.digits), its held-out test split, the
labeled / unlabeled split of the train images for SAD, and the backbone
pretrained on the train split's digits (its "ImageNet" weights)."""
import json
import os
import os.path as osp
import time

from mmdet_sssd.datasets.coco_layout import COCO_SIZED_LAYOUTS
from .pool import phase

LABELED_FRACTION = 0.25
# pretraining of the backbone (crops, epochs); the default is the tool's
PRETRAIN = dict(default=dict(), full=dict(), smoke=dict(num_crops=128,
                                                        epochs=1, num_val=32))
# the backbone of each pretraining scales (digits_pretrain.CROPS)
BACKBONE_FILES = dict(digits='backbone.pth', coco='backbone_coco_scales.pth')


def check_pretrain_scales(pretrain_scales: str) -> None:
    """ValueError unless ``'digits'`` or ``'layout'``."""
    if pretrain_scales not in ('digits', 'layout'):
        raise ValueError(f"pretrain_scales must be 'digits' or 'layout', "
                         f'got {pretrain_scales!r}')


def _generate(data_root: str, num_train: int, num_val: int, num_test: int,
              meta: dict, layout: str) -> bool:
    """Generates the train and val splits when the folder's ``meta.json``
    is not ``meta`` and the test split when it has another size; whether
    train and val were made anew."""
    from mmdet_sssd.datasets import generate_digits_coco
    meta_file = osp.join(data_root, 'meta.json')
    current = None
    if osp.isfile(meta_file):
        with open(meta_file) as f:
            current = json.load(f)
    num_test_there = (current or {}).pop('num_test', 0)
    if current != meta:
        num_test_there = 0
        phase(f'generating the digits dataset in {data_root}')
        start = time.time()
        generate_digits_coco(data_root, num_train, num_val, layout=layout)
        with open(meta_file, 'w') as f:
            json.dump(meta, f)
        phase(f'generated in {time.time() - start:.0f} s')
    else:
        phase(f'using the digits dataset in {data_root}')
    if num_test_there != num_test or not osp.isfile(
            osp.join(data_root, 'test.json')):
        phase(f'generating the {num_test} test images in {data_root}')
        generate_digits_coco(data_root, num_train, num_val,
                             num_test=num_test, splits=('test', ),
                             layout=layout)
        with open(meta_file, 'w') as f:
            json.dump(dict(meta, num_test=num_test), f)
    return current != meta


def _pretrain(backbone: str, size: str, scales: str) -> None:
    """Pretrains the backbone into ``backbone`` at the glyph ``scales``,
    said with its CPU time."""
    import resource

    from mmdet_sssd.datasets.digits_pretrain import pretrain_digits_backbone
    phase(f'pretraining the backbone on the train digits at the {scales} '
          f'scales -> {backbone}')
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    pretrain_digits_backbone(backbone, scales=scales, **PRETRAIN[size])
    after = resource.getrusage(resource.RUSAGE_SELF)
    phase('pretraining took {:.0f} CPU seconds'.format(
        after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime))


def prepare_data(data_root: str, size: str, num_train: int, num_val: int,
                 num_test: int, layout: str = 'digits',
                 pretrain_scales: str = 'digits') -> str:
    """Generates the dataset and pretrains the backbone, each only if
    missing or made by another generator version / size / layout; a
    missing test split is added alone (train, val and the backbone stay as
    they are). ``layout`` is the generator's (``'coco'``: scenes with
    COCO's statistics, 192 pixels; ``'coco-counts'`` and ``'coco-sizes'``
    its two factors apart); ``pretrain_scales`` the glyph scales the
    backbone is pretrained at (``'digits'``: the 96-pixel scenes', every
    record's; ``'layout'``: the layout's own, for ``'coco'`` and
    ``'coco-sizes'`` 8-150 pixels). Returns the backbone's weights
    file."""
    from mmdet_sssd.datasets import GENERATOR_VERSION, split_coco_labeled
    meta = dict(generator=GENERATOR_VERSION, num_train=num_train,
                num_val=num_val, seed=0)
    if layout != 'digits':  # the folders made before layouts keep theirs
        meta['layout'] = layout
    check_pretrain_scales(pretrain_scales)
    # the layout's own: COCO's scales where it draws COCO's sizes
    scales = 'coco' if pretrain_scales == 'layout' and \
        layout in COCO_SIZED_LAYOUTS else 'digits'
    backbone = osp.join(data_root, BACKBONE_FILES[scales])
    made = _generate(data_root, num_train, num_val, num_test, meta, layout)
    if made:  # the backbones were pretrained on another generator's crops
        for old in BACKBONE_FILES.values():
            if osp.isfile(osp.join(data_root, old)):
                os.remove(osp.join(data_root, old))
    split = [osp.join(data_root, f'train_{kind}.json')
             for kind in ('labeled', 'unlabeled')]
    if not all(map(osp.isfile, split)) or made:
        labeled, unlabeled = split_coco_labeled(
            osp.join(data_root, 'train.json'), *split, LABELED_FRACTION)
        phase(f'split of the train images for sad: {labeled} labeled, '
              f'{unlabeled} unlabeled')
    if not osp.isfile(backbone):
        _pretrain(backbone, size, scales)
    else:
        phase(f'using the pretrained backbone {backbone}')
    return backbone
