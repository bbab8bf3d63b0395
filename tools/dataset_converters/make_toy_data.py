# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Write the toy shapes dataset read by configs/toy/ (COCO format).

    python tools/dataset_converters/make_toy_data.py [--out data/toy]
        [--train 64] [--val 16]
"""
import argparse

from mmdet_sssd.testing import make_toy_coco

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/toy')
    parser.add_argument('--train', type=int, default=64)
    parser.add_argument('--val', type=int, default=16)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    make_toy_coco(args.out, args.train, args.val, seed=args.seed)
    print(f'{args.train} train and {args.val} val images -> {args.out}')
