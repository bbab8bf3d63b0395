# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Does a trained single-stage detector's FPN carry each object's class,
per level and COCO size class?

    python tools/analysis_tools/probe_detector_maps.py CONFIG CHECKPOINT
        [--train-imgs 600] [--test-imgs 600] [--out report.json]
        [--cfg-options ...]

The detector (a plain one, or an ``SSSDDistiller``'s student) runs on
training images (the probes' fit, with the test pipeline: no
augmentation) and on the test dataloader's images (their score); for each
GT object the mean of each level's maps inside its box and their value
at its centre's cell, of the neck's output and of the classification
branch's tower; then, for each size
class (COCO's areas: small < 32^2 <= medium < 96^2 <= large), a linear
probe of the class per level (mmdet_sssd.analysis.map_probes). Point the
test dataloader at the split to score with ``--cfg-options``.
"""
import json
import sys

from mmdet_sssd.utils import model_tool_parser


def parse_args():
    parser = model_tool_parser(__doc__)
    parser.add_argument('--train-imgs', type=int, default=600)
    parser.add_argument('--test-imgs', type=int, default=600)
    parser.add_argument('--out', help='also write the report as JSON')
    return parser.parse_args()


def main():
    args = parse_args()
    import torch
    from mmdet.registry import DATASETS

    from mmdet_sssd.analysis.map_probes import (MAPS, collect_map_probes,
                                                map_probe_report)
    from mmdet_sssd.utils import load_gt_first, load_model
    torch.set_num_threads(1)
    cfg, model, _ = load_model(args.config, args.checkpoint,
                               args.cfg_options)
    detector = getattr(model, 'student', model)
    train_cfg = cfg.train_dataloader.dataset.copy()
    if 'pipeline' not in train_cfg:
        sys.exit(f'the training dataset is a {train_cfg.get("type")} '
                 f'wrapper; give the wrapped dataset as '
                 f'train_dataloader.dataset with --cfg-options')
    test_cfg = cfg.test_dataloader.dataset.copy()
    # no augmentation; the GT in the input's coordinates
    train_cfg.pipeline = load_gt_first(test_cfg.pipeline)
    test_cfg.pipeline = load_gt_first(test_cfg.pipeline)
    for ds in (train_cfg, test_cfg):
        ds.pop('filter_cfg', None)
        ds.test_mode = False  # keep the GT
    data = [collect_map_probes(detector, DATASETS.build(ds), n)
            for ds, n in ((train_cfg, args.train_imgs),
                          (test_cfg, args.test_imgs))]
    report = map_probe_report(*data)
    strides = data[0]['strides']
    for key in MAPS:
        if key not in report['small']:
            continue
        print(f'\n{key}: ' + ('the cell at the box centre' if
                               key.endswith('centre') else 'the box mean'))
        print('| size class | objects (fit, scored) | chance | ' +
              ' | '.join(f'stride {s}' for s in strides) + ' |')
        print('|---|---|---|' + '---|' * len(strides))
        for name, row in report.items():
            print(f"| {name} | {row['objects'][0]}, {row['objects'][1]} | "
                  f"{100 * row['chance']:.0f}% | " + ' | '.join(
                      '' if a is None else f'{100 * a:.1f}%'
                      for a in row[key]) + ' |')
    if args.out:
        report.update(config=args.config, checkpoint=args.checkpoint,
                      strides=strides)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
