# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Does a pretrained digits backbone carry a digit's class at each glyph
scale? A linear probe on its pooled last-stage features, per band of
glyph sides (mmdet_sssd.analysis.backbone_probes):

    python tools/analysis_tools/probe_backbone_scales.py \
        data/digits_coco_train2000/backbone.pth \
        data/digits_coco_train2000/backbone_coco_scales.pth

Prints one markdown row per backbone: the probe's test accuracy in each
band (11 classes: ten digits and background; chance beside)."""
import argparse

import torch


def main():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    from mmdet_sssd.analysis.backbone_probes import BANDS, scale_probe
    from mmdet_sssd.datasets.digits_pretrain import BACKBONE
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('backbones', nargs='+',
                        help="pretrained backbones ({'state_dict': ...}, "
                        'as tools/benchmarks/pretrain_digits_backbone.py '
                        'writes them)')
    parser.add_argument('--fit', type=int, default=1500,
                        help='crops the probe is fit on, per band')
    parser.add_argument('--test', type=int, default=600,
                        help='crops it is scored on, per band')
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(1)
    print('| backbone | ' + ' | '.join(name for name, *_ in BANDS) + ' |')
    print('|---|' + '---|' * len(BANDS))
    for path in args.backbones:
        backbone = MODELS.build(BACKBONE)
        # weights only: a checkpoint runs no code (docs/safety.md)
        backbone.load_state_dict(torch.load(
            path, map_location='cpu', weights_only=True)['state_dict'])
        report = scale_probe(backbone, num_fit=args.fit,
                             num_test=args.test)
        print(f'| {path} | ' + ' | '.join(
            f"{100 * r['accuracy']:.1f}% (chance {100 * r['chance']:.0f}%)"
            for r in report.values()) + ' |')


if __name__ == '__main__':
    main()
