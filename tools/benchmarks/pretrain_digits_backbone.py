# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Pretrain the digits benchmark's backbone (its "ImageNet" weights).

    python tools/benchmarks/pretrain_digits_backbone.py
        [--out data/digits/backbone.pth] [--crops 12000] [--epochs 6]
        [--scales digits|coco] [--size S] [--seed 0] [--data-seed 0]

Classifies crops rendered from the train split's source digits only (the
ten digits and a clutter-only "background" class), deterministically, on one
thread, and writes the backbone weights where the digits configs'
``init_cfg=dict(type='Pretrained', checkpoint=...)`` reads them
(mmdet_sssd/datasets/digits_pretrain.py). About 2 minutes on one CPU core.
``--scales`` the glyphs drawn: ``digits`` (10 pixels to the crop's side,
the benchmark's 96-pixel scenes; crops of 32 pixels) or ``coco`` (as the
COCO-layout scenes draw theirs, 8-150 pixels by size class; crops of 160
pixels, about 9x the cost); ``--size`` another crop side.
"""
import argparse
import os
import os.path as osp

from mmdet_sssd.datasets.digits_pretrain import pretrain_digits_backbone

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/digits/backbone.pth')
    parser.add_argument('--crops', type=int, default=12000)
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--scales', choices=['digits', 'coco'],
                        default='digits',
                        help='the glyph scales of the crops')
    parser.add_argument('--size', type=int, default=None,
                        help='crop side (default: the scales\' 32 or 160; '
                        'with digits also the largest digit)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--data-seed', type=int, default=0,
                        help='the seed the dataset was generated with '
                        '(which source digits are train)')
    args = parser.parse_args()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    pretrain_digits_backbone(args.out, num_crops=args.crops,
                             epochs=args.epochs, size=args.size,
                             seed=args.seed, data_seed=args.data_seed,
                             scales=args.scales)
