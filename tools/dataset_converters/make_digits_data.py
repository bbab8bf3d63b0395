# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Write the handwritten-digits detection dataset (COCO format) read by
configs/digits/: real sklearn digits on cluttered 96x96 images.

    python tools/dataset_converters/make_digits_data.py [--out data/digits]
        [--train 1000] [--val 200] [--test 0] [--seed 0] [--max-scale 48]
        [--max-iou 0.15] [--layout digits|coco|coco-counts|coco-sizes]

tools/digits_benchmark.py makes the same data (with the defaults, and a
2000-image test split) when its data folder is missing or was written by
another generator version. ``--layout coco`` writes scenes with COCO's
instances and categories per image and its small / medium / large mix,
192 pixels square (mmdet_sssd/datasets/coco_layout.py); ``coco-counts``
and ``coco-sizes`` its two factors apart (COCO's counts on the 96-pixel
scenes; their counts at COCO's sizes, 192 pixels). It prints what each
split holds.
"""
import argparse
import json
import time

from mmdet_sssd.datasets import generate_digits_coco, scene_statistics
from mmdet_sssd.datasets.digits_generator import LAYOUTS

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='data/digits')
    parser.add_argument('--train', type=int, default=1000)
    parser.add_argument('--val', type=int, default=200)
    parser.add_argument('--test', type=int, default=0,
                        help='held-out test images (val\'s source digits)')
    parser.add_argument('--layout', choices=LAYOUTS,
                        default='digits')
    parser.add_argument('--size', type=int, default=None,
                        help='image side (default 96; 192 for --layout '
                        'coco and coco-sizes)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--min-scale', type=int, default=10)
    parser.add_argument('--max-scale', type=int, default=48,
                        help='largest digit side (generator 1: 64)')
    parser.add_argument('--max-iou', type=float, default=None,
                        help='most overlap between digits (default 0.15; '
                        '0.4 for --layout coco and coco-sizes; generator '
                        '1: 0.3)')
    args = parser.parse_args()
    start = time.time()
    paths = generate_digits_coco(args.out, args.train, args.val,
                                 image_size=args.size, seed=args.seed,
                                 min_scale=args.min_scale,
                                 max_scale=args.max_scale,
                                 max_iou=args.max_iou, num_test=args.test,
                                 layout=args.layout)
    print(f'{args.train} train + {args.val} val + {args.test} test images '
          f'-> {args.out} ({time.time() - start:.1f} s)')
    for split, path in paths.items():
        with open(path) as f:
            stats = scene_statistics(json.load(f))
        print(f'{split}: ' + ', '.join(
            f'{k} {v:.2f}' if isinstance(v, float) else f'{k} {v}'
            for k, v in stats.items()))
