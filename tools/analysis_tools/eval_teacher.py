# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Score the label teacher: the student's head on the teacher's maps.

    python tools/analysis_tools/eval_teacher.py CONFIG CHECKPOINT
        [--work-dir DIR] [--class-probe N] [--swap] [--box-errors N]
        [--head-fit N [--head-fit-on {teacher,student}] [--head-fit-lr LR]]
        [--cfg-options ...]

Runs the config's test set and metric (mmdet's CocoMetric for COCO-style
data) through ``LabelTeacherValLoop``: each test image's teacher maps are
built from its GT and the student's own maps, and the student's head(s)
detect on them and on the student's maps. It prints the AP of the label
teacher and of the student, and with a CocoMetric also their
class-agnostic AP (every class merged into one: are the boxes found,
whatever their class?). LGD's premise is that this teacher is far ahead
of the student; the gap says how much there is to distil. The test
pipeline is reordered to load the GT before ``Resize`` (the teacher needs
it in input coordinates).

``--class-probe N`` also fits a linear probe (scikit-learn's logistic
regression) of each object's class from the maps at its box centre (all
levels concatenated), on N training images, and prints its accuracy on the
test set, for the student's maps and for the teacher's: is the label, which
the teacher is given, readable from what the student is pulled toward?

``--swap`` (dense single-stage heads) also scores the two halves of the
head's output apart: the teacher's classification scores with the
student's boxes, and the student's scores with the teacher's boxes (each
box at each anchor from one set of maps, its scores from the other). What
a logit loss such as ADL pulls the student's scores toward is the
teacher's scores at the student's anchors: if they rank and class the
student's own boxes worse than its own scores do, the pull's target is
behind the student there.

``--box-errors N`` also matches, on the first N test images, each GT
object to the top-scoring box of student and teacher at IoU >= 0.5 (any
class) and prints per COCO size class, and for the isolated and the
overlapping objects, the fraction found and the found boxes' median IoU,
centre error (in units of the object's size) and size error (``|log|`` of
the width and height ratios): does a detector miss objects, or find them
and draw them loosely (what AP50 against AP75 hints)?

``--head-fit N`` then trains the student's head(s) alone, everything else
frozen, for N batches of the config's training set on the teacher's maps
(``--head-fit-on student``: on the student's own, the control), with the
config's optimizer at ``--head-fit-lr`` (default: a tenth of the config's
LR), and scores both again (and ``--box-errors`` again): is the teacher
limited by a head trained on the student's maps (``teacher_trains_head``
False or ``'warmup'``), or by its maps?
"""
import os.path as osp
import sys

from mmdet_sssd.utils import model_tool_parser


def parse_args():
    parser = model_tool_parser(__doc__)
    parser.add_argument('--work-dir', help='defaults to '
                        'work_dirs/eval_teacher/<config name>')
    parser.add_argument('--class-probe', type=int, default=0, metavar='N',
                        help='also fit a linear class probe on N training '
                        'images (needs scikit-learn)')
    parser.add_argument('--swap', action='store_true',
                        help="also the teacher's scores with the student's "
                        "boxes and the student's scores with the "
                        "teacher's boxes")
    parser.add_argument('--box-errors', type=int, default=0, metavar='N',
                        help="also the student's and the teacher's box "
                        'errors per object size on N test images')
    parser.add_argument('--head-fit', type=int, default=0, metavar='N',
                        help='then fit the head(s) alone for N training '
                        'batches and score again')
    parser.add_argument('--head-fit-on', choices=('teacher', 'student'),
                        default='teacher',
                        help="the maps the head is fitted to (default: the "
                        "teacher's)")
    parser.add_argument('--head-fit-lr', type=float, metavar='LR',
                        help="defaults to a tenth of the config's LR")
    return parser.parse_args()


def print_metrics(metrics, rows):
    """One line per (name, metric prefix) of ``rows``."""
    for name, prefix in rows:
        strip = len('teacher/') if prefix.startswith('teacher/') else 0
        scores = ' '.join(f'{k[strip:]}={v:.4f}'
                          for k, v in metrics.items()
                          if isinstance(v, float) and k.startswith(prefix))
        # CocoMetric returns nothing when no box passed the score threshold
        print(f'{name}:', scores or 'no detections (empty metric)')


def centre_features(model, dataset, num_imgs, batch_size=16):
    """Student and teacher maps at each GT box centre, all levels
    concatenated: ((M, P*C), (M, P*C)) arrays and (M, ) labels."""
    import numpy as np
    import torch
    from mmdet_sssd.analysis import preprocessed_batches
    feats = {'student': [], 'teacher': []}
    labels = []
    for data in preprocessed_batches(model, dataset, num_imgs, batch_size):
        samples = data['data_samples']
        with torch.no_grad():
            student = model.student.extract_feat(data['inputs'])
            teacher = model.teacher(student, samples)
        pad_h, pad_w = samples[0].batch_input_shape
        for i, sample in enumerate(samples):
            boxes = sample.gt_instances.bboxes
            boxes = getattr(boxes, 'tensor', boxes)
            centres = (boxes[:, :2] + boxes[:, 2:]) / 2
            for key, maps in (('student', student), ('teacher', teacher)):
                per_level = []
                for m in maps:
                    h, w = m.shape[-2:]
                    x = (centres[:, 0] * w / pad_w).long().clamp(0, w - 1)
                    y = (centres[:, 1] * h / pad_h).long().clamp(0, h - 1)
                    per_level.append(m[i][:, y, x].T)
                feats[key].append(torch.cat(per_level, 1).numpy())
            labels.append(sample.gt_instances.labels.numpy())
    return ({k: np.concatenate(v) for k, v in feats.items()},
            np.concatenate(labels))


def bare_model(runner):
    """The runner's model without its DDP-style wrapper."""
    from mmengine.model import is_model_wrapper
    return runner.model.module if is_model_wrapper(
        runner.model) else runner.model


def test_dataset(runner):
    """The test set the scoring ran on (``LabelTeacherValLoop``'s: the GT
    loaded before ``Resize``), not built again."""
    return runner.val_loop.dataloader.dataset


def class_probe(runner, cfg, num_imgs):
    from mmdet.registry import DATASETS
    from sklearn.linear_model import LogisticRegression
    model = bare_model(runner)
    model.eval()
    train = cfg.train_dataloader.dataset.copy()
    if 'pipeline' not in train:
        sys.exit(f'--class-probe: the training dataset is a '
                 f'{train.get("type")} wrapper; give the wrapped dataset '
                 f'as train_dataloader.dataset with --cfg-options')
    train.pipeline = cfg.test_dataloader.dataset.pipeline  # no augmentation
    x_train, y_train = centre_features(model, DATASETS.build(train),
                                       num_imgs)
    x_test, y_test = centre_features(
        model, test_dataset(runner), 10**9)
    for key in ('student', 'teacher'):
        probe = LogisticRegression(max_iter=2000).fit(x_train[key], y_train)
        print(f'class probe ({key} maps at box centres, {len(y_train)} '
              f'train / {len(y_test)} test objects): train accuracy '
              f'{probe.score(x_train[key], y_train):.3f}, test accuracy '
              f'{probe.score(x_test[key], y_test):.3f}')


def box_errors(runner, num_imgs, note=''):
    import torch

    from mmdet_sssd.analysis import (box_error_summary, matched_box_errors,
                                     preprocessed_batches)
    model = bare_model(runner)
    model.eval()
    errors = dict(student=[], teacher=[])
    for data in preprocessed_batches(model, test_dataset(runner), num_imgs,
                                     16):
        with torch.no_grad():
            pair = model.predict_pair(data['inputs'], data['data_samples'],
                                      rescale=False)
        for key, samples in zip(('student', 'teacher'), pair):
            for sample in samples:
                # input pixels back to the image's, for COCO's size classes
                scale = sample.pred_instances.bboxes.new_tensor(
                    sample.scale_factor).repeat(2)
                gt = sample.gt_instances.bboxes
                errors[key].append(matched_box_errors(
                    sample.pred_instances.bboxes / scale,
                    sample.pred_instances.scores,
                    getattr(gt, 'tensor', gt) / scale))
    for key, rows in errors.items():
        for row in box_error_summary(rows):
            medians = ' '.join(
                f'{k}={row[k]:.3f}' if row[k] is not None else f'{k}=-'
                for k in ('iou', 'centre_error', 'size_error'))
            print(f'box errors ({key}, {row["group"]}{note}): '
                  f'{row["objects"]} '
                  f'objects, found {row["found"]:.3f}; medians of the '
                  f'found: {medians}')


SCORINGS = (('label teacher', 'teacher/coco/'),
            ('label teacher, class-agnostic', 'teacher/coco_agnostic/'),
            ('student', 'coco/'),
            ('student, class-agnostic', 'coco_agnostic/'))


def head_fit(runner, cfg, args):
    """``--head-fit``: the head(s) fitted to one set of maps, then the
    scorings (and box errors) again, each line marked."""
    from mmdet_sssd.analysis import fit_head
    optimizer = cfg.optim_wrapper.optimizer.copy()  # merged: no _delete_
    optimizer.lr = args.head_fit_lr or optimizer.lr / 10
    loader = runner.build_dataloader(cfg.train_dataloader, seed=0)
    trace = fit_head(bare_model(runner), loader, args.head_fit,
                     args.head_fit_on, optimizer)
    first, last = (sum(x) / len(x) for x in (trace[:20], trace[-20:]))
    note = f"head fitted to the {args.head_fit_on}'s maps"
    print(f'{note}: {args.head_fit} batches at lr {optimizer.lr:g} '
          f'({optimizer.type}); loss {first:.4f} over the first 20, '
          f'{last:.4f} over the last 20')
    metrics = runner.val_loop.run()
    print_metrics(metrics, [(f'{name} ({note})', prefix)
                            for name, prefix in SCORINGS])
    if args.box_errors:
        box_errors(runner, args.box_errors, f'; {note}')


def main():
    args = parse_args()
    from mmengine.runner import Runner

    from mmdet_sssd.utils import load_config
    cfg = load_config(args.config, args.cfg_options, teacher=True)
    # the test set through the loop that scores the student and its teacher
    cfg.val_cfg = dict(type='LabelTeacherValLoop')
    cfg.val_dataloader = cfg.test_dataloader
    cfg.val_evaluator = cfg.test_evaluator
    cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', 'eval_teacher',
        osp.splitext(osp.basename(args.config))[0])
    cfg.launcher = 'none'
    runner = Runner.from_cfg(cfg)
    model = bare_model(runner)
    if args.swap:
        try:
            model.check_teacher_swap()
        except TypeError as err:  # before the evaluations, not after
            sys.exit(f'--swap: {err}')
    if args.head_fit and args.head_fit_on == 'teacher' and \
            model.teacher is None:
        sys.exit('--head-fit: the model has no label teacher; use '
                 '--head-fit-on student')
    metrics = runner.val()
    print_metrics(metrics, SCORINGS)
    if args.swap:
        for swap, name in (('scores', "teacher's scores, student's boxes"),
                           ('boxes', "student's scores, teacher's boxes")):
            model.teacher_swap = swap
            metrics = runner.val_loop.run()
            print_metrics(metrics, ((name, 'teacher/coco/'),
                                    (f'{name}, class-agnostic',
                                     'teacher/coco_agnostic/')))
        model.teacher_swap = None
    if args.class_probe:
        class_probe(runner, cfg, args.class_probe)
    if args.box_errors:
        box_errors(runner, args.box_errors)
    if args.head_fit:  # last: it changes the head
        head_fit(runner, cfg, args)


if __name__ == '__main__':
    main()
