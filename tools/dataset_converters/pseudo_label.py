# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Pseudo-label unlabeled images with a trained detector (SAD's offline
step): its detections above a score threshold, as a COCO file.

    python tools/dataset_converters/pseudo_label.py CONFIG CHECKPOINT \
        IMAGES OUT.json
        [--score-thr 0.5] [--img-dir DIR] [--categories-from ANN.json]
        [--batch-size 8] [--keep-empty] [--device cuda:0]
        [--cfg-options ...]

IMAGES is a folder of images or a COCO image list (for COCO:
``annotations/image_info_unlabeled2017.json`` with ``--img-dir
unlabeled2017/``). The config's test pipeline and the model's ``test_step``
(mmdet's inference, batched) give boxes in original image pixels. The
output is read by mmdet's ``CocoDataset`` like any annotation file (each
annotation also keeps its ``score``); ``--categories-from`` copies the
category ids of the labeled set's file, matched by class name. Images with
no detection above the threshold are left out (counted in the file's
``info``), or kept without annotations with ``--keep-empty``. The
checkpoint is read by mmdet_sssd's safe loader (docs/safety.md). See
docs/user_guides/semi_supervised.md for the threshold.
"""
import json
import os
import os.path as osp
import sys

from mmdet_sssd.utils import model_tool_parser


def parse_args(argv=None):
    parser = model_tool_parser(__doc__)
    parser.add_argument('images', help='a folder of images or a COCO '
                        'image-list .json')
    parser.add_argument('out', help='the COCO .json to write')
    parser.add_argument('--score-thr', type=float, default=0.5,
                        help='keep detections scoring at least this '
                        '(default 0.5)')
    parser.add_argument('--img-dir', help="folder of a .json's file names "
                        "(default: the .json's folder)")
    parser.add_argument('--categories-from', metavar='ANN_JSON',
                        help='use the category ids of this annotation file')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--keep-empty', action='store_true',
                        help='keep images without detections (no '
                        'annotations)')
    parser.add_argument('--device', default=None,
                        help='default: cuda:0 if available, else cpu')
    args = parser.parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        parser.error(f'--score-thr must be in [0, 1], got {args.score_thr}')
    if args.batch_size < 1:
        parser.error('--batch-size must be at least 1')
    return args


def main(argv=None):
    args = parse_args(argv)
    import torch

    from mmdet_sssd.utils import load_model
    from mmdet_sssd.utils.pseudo_label import (categories_for,
                                               inference_pipeline,
                                               list_images, pseudo_label)

    images = list_images(args.images, args.img_dir)
    cfg, model, ckpt = load_model(args.config, args.checkpoint,
                                  args.cfg_options)
    classes = (ckpt.get('meta', {}).get('dataset_meta') or {}).get(
        'classes') or cfg.get('train_dataloader', {}).get(
            'dataset', {}).get('metainfo', {}).get('classes')
    if not classes:
        sys.exit('pseudo_label: the checkpoint has no dataset_meta classes '
                 'and the config no train_dataloader.dataset.metainfo; '
                 'give the classes in the config')
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model.to(device).eval()
    result = pseudo_label(
        model, inference_pipeline(cfg), images,
        categories_for(classes, args.categories_from), args.score_thr,
        args.batch_size, args.keep_empty,
        info=dict(config=args.config, checkpoint=args.checkpoint,
                  images=args.images))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f)
    info = result['info']
    print(f"\n{len(result['annotations'])} pseudo-boxes on "
          f"{len(result['images'])} images (score >= {args.score_thr}); "
          f"{info['num_without_detection']} of {info['num_images']} images "
          f"had none ({info['empty_images']}) -> {args.out}")


if __name__ == '__main__':
    main()
