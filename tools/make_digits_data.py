# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Write the handwritten-digits detection dataset (COCO format) read by
configs/digits/: real sklearn digits on cluttered 96x96 images.

    python tools/make_digits_data.py [--out data/digits] [--train 1000] [--val 200] [--seed 0]
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdet_sssd.datasets import generate_digits_coco  # noqa: E402

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/digits')
    parser.add_argument('--train', type=int, default=1000)
    parser.add_argument('--val', type=int, default=200)
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    start = time.time()
    paths = generate_digits_coco(args.out, args.train, args.val,
                                 image_size=args.size, seed=args.seed)
    print(f'{args.train} train + {args.val} val images -> {args.out} '
          f'({time.time() - start:.1f} s): {paths}')
