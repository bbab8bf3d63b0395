# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Pretrain the digits benchmark's backbone (its "ImageNet" weights).

    python tools/benchmarks/pretrain_digits_backbone.py
        [--out data/digits/backbone.pth] [--crops 12000] [--epochs 6]
        [--size 32] [--seed 0] [--data-seed 0]

Classifies crops rendered from the train split's source digits only (the
ten digits and a clutter-only "background" class), deterministically, on one
thread, and writes the backbone weights where the digits configs'
``init_cfg=dict(type='Pretrained', checkpoint=...)`` reads them
(mmdet_sssd/datasets/digits_pretrain.py). About 2 minutes on one CPU core.
``--size`` is the crops' side, and the largest digit drawn in them
(default 32: the benchmark's 96-pixel scenes; larger for the COCO-layout
scenes' medium and large digits, at about size^2 the cost).
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
    parser.add_argument('--size', type=int, default=32,
                        help='crop side, and the largest digit in a crop')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--data-seed', type=int, default=0,
                        help='the seed the dataset was generated with '
                        '(which source digits are train)')
    args = parser.parse_args()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    pretrain_digits_backbone(args.out, num_crops=args.crops,
                             epochs=args.epochs, size=args.size,
                             seed=args.seed,
                             data_seed=args.data_seed)
