# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Score the label teacher: the student's head on the teacher's maps.

    python tools/eval_teacher.py CONFIG CHECKPOINT [--work-dir DIR]
                                 [--cfg-options ...]

Runs the config's test loop and metric (mmdet's CocoMetric for COCO-style
data) with ``model.predict_with_teacher=True``: each test image's teacher
maps are built from its GT and the student's own maps, and the student's
head(s) detect on them. LGD's premise is that this teacher is far ahead of
the student; the gap between this AP and the student's (``tools/test.py``)
says how much there is to distil. The test pipeline is reordered to load
the GT before ``Resize`` (the teacher needs it in input coordinates).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import Config, DictAction  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--work-dir', help='defaults to '
                        'work_dirs/eval_teacher/<config name>')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def main():
    args = parse_args()
    from mmdet.utils import register_all_modules
    from mmengine.runner import Runner

    import mmdet_sssd  # noqa: F401
    from mmdet_sssd.utils import load_gt_first
    register_all_modules()

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.model.get('type') != 'SSSDDistiller' or cfg.model.get(
            'teacher', {}) is None:
        sys.exit(f'{args.config}: not an SSSDDistiller with a label '
                 f'teacher: there is no teacher to score')
    cfg.model.predict_with_teacher = True
    dataset = cfg.test_dataloader.dataset
    dataset.pipeline = load_gt_first(dataset.pipeline)
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', 'eval_teacher',
        osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = 'none'
    metrics = Runner.from_cfg(cfg).test()
    print('label teacher:', ' '.join(f'{k}={v:.4f}'
                                     for k, v in metrics.items()
                                     if isinstance(v, float)))


if __name__ == '__main__':
    main()
