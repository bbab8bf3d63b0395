# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Where does the label teacher keep, or lose, each object's class?

    python tools/analysis_tools/probe_teacher.py CONFIG [CHECKPOINT]
        [--train-imgs 300] [--test-imgs 200] [--single-object]
        [--out report.json] [--cfg-options ...]

Runs the config's SSSDDistiller on training images (the probes' fit, with
the test pipeline: no augmentation) and val images (their score) and
prints (mmdet_sssd.analysis.teacher_probes):

- the label embeddings: a linear probe of each object's class from them,
  before the attention;
- the attention: the weight each object puts on its own label, against
  chance (1 / the keys of its image);
- the teacher's maps, and the student's for reference: a linear probe of
  the class from each box's mean, per level.

Without CHECKPOINT the model is freshly initialised (its init_cfg, e.g. a
pretrained backbone). ``--single-object`` keeps only the first object of
each image: the control where the routing is trivial. The teacher's AP and
class-agnostic AP: tools/analysis_tools/eval_teacher.py.
"""
import json
import sys

from mmdet_sssd.utils import model_tool_parser


def parse_args():
    parser = model_tool_parser(__doc__, checkpoint_required=False)
    parser.add_argument('--train-imgs', type=int, default=300)
    parser.add_argument('--test-imgs', type=int, default=200)
    parser.add_argument('--single-object', action='store_true',
                        help='only the first object of each image')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of a fresh initialisation')
    parser.add_argument('--out', help='also write the report as JSON')
    return parser.parse_args()


def main():
    args = parse_args()
    import torch
    from mmdet.registry import DATASETS
    from mmengine.runner.utils import set_random_seed

    from mmdet_sssd.analysis import (collect_teacher_probes, format_report,
                                     probe_report)
    from mmdet_sssd.utils import load_gt_first, load_model
    set_random_seed(args.seed)  # a fresh initialisation's
    cfg, model, _ = load_model(args.config, args.checkpoint,
                               args.cfg_options, teacher=True,
                               init_weights=True)
    test_pipeline = cfg.val_dataloader.dataset.pipeline
    train_cfg = cfg.train_dataloader.dataset.copy()
    if 'pipeline' not in train_cfg:
        sys.exit(f'the training dataset is a {train_cfg.get("type")} '
                 f'wrapper; give the wrapped dataset as '
                 f'train_dataloader.dataset with --cfg-options')
    train_cfg.pipeline = load_gt_first(test_pipeline)  # no augmentation
    train_cfg.pop('filter_cfg', None)
    with torch.no_grad():
        data = [collect_teacher_probes(model, DATASETS.build(ds), n,
                                       single_object=args.single_object)
                for ds, n in ((train_cfg, args.train_imgs),
                              (cfg.val_dataloader.dataset, args.test_imgs))]
    report = probe_report(*data)
    report.update(config=args.config, checkpoint=args.checkpoint,
                  single_object=args.single_object)
    state = 'trained' if args.checkpoint else 'freshly initialised'
    print(f'label teacher probes ({state}'
          f'{", one object per image" if args.single_object else ""}):')
    print('\n'.join(format_report(report)))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
