# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""How hard does each distillation loss pull the student's maps?

    python tools/analysis_tools/distill_grad_scale.py CONFIG [CHECKPOINT]
        [--losses MSELoss JSDistanceLoss JSDistanceLoss:tau=0.5]
        [--batches 8] [--seed 0] [--cfg-options ...]

On a few training batches, builds the label teacher's maps from the
student's (as in training) and, for each loss, prints the distillation
term ``mean_p loss(norm(adapter(S_p)), norm(sg(T_p)))`` (lambda = 1) and
the L2 norm of its gradient on the student's FPN maps. The next column is
the lambda at which a loss pulls as hard as the first one does at
lambda = 1: losses of different forms (squared error, a bounded distance)
are not on one scale, and lambda was tuned for LGD's squared error.

Beside them, the student's own detection loss (its head(s) on its maps,
all of its loss terms summed) and its gradient on the same maps: the last
two columns are each distillation gradient's norm as a fraction of the
detection gradient's (at lambda = 1; multiply by the config's lambda) and
the cosine between the two (the whole gradient on all levels, per batch,
averaged over batches): near 0, the pull asks for something the detector's
loss does not; below 0, against it.

With a config whose distiller has a ``logit_distill_loss`` (ADL), a last
row measures it the same way: the loss between the head's classification
logits on the student's maps and on the teacher's (detached), its
gradient on the student's FPN maps through the head.

With ``--anchors`` (a RetinaNet-like anchor head), a second table says
where the logit term's gradient on the student's classification logits
goes, by what the head's assigner made of each (anchor, class) entry: the
objects' own classes on positive anchors, their other classes, the
anchors the assigner ignores, the background, and the anchors it never
assigns (outside the image or on a batch's padding). Per group: its share of the
entries, of the term's squared gradient and of the detection loss's
(``loss_cls``, on the same logits); the cosine of the two there (summed
over batches, then taken); each one's mean gradient per entry (negative:
it raises the logits, i.e. the scores).

With ``--levels`` as well, the same split by the FPN level of each entry
(named by its stride): a table of the levels, all groups together, then
one of each level's groups. A level's share of the term's squared
gradient beside its share of the detection loss's says on which levels
(RetinaNet: which object sizes) the term pulls more than the detector's
own loss does.

Without CHECKPOINT the model is measured at initialisation. The adapter is
the one the config trains (for its own ``distill_loss``). Each loss is
``Type[:key=value,...]``, e.g. ``JSDistanceLoss:tau=0.5,axis=channel``;
the key ``region=boxes`` measures it on the ground-truth boxes' cells
only, as ``SSSDDistiller(distill_region='boxes')`` trains it (e.g.
``JSDistanceLoss:axis=channel,region=boxes``).
"""
import ast
import sys

from mmdet_sssd.utils import model_tool_parser


def parse_args():
    parser = model_tool_parser(__doc__, checkpoint_required=False)
    parser.add_argument('--losses', nargs='+', metavar='TYPE[:K=V,...]',
                        help='defaults to MSELoss (LGD) and the config\'s '
                        'distill_loss; the first is the reference')
    parser.add_argument('--batches', type=int, default=8)
    parser.add_argument('--anchors', action='store_true',
                        help='where the logit term\'s gradient goes over '
                        'the anchors (needs a logit_distill_loss and an '
                        'anchor head)')
    parser.add_argument('--levels', action='store_true',
                        help='with --anchors: the same split by FPN level '
                        '(all groups, then each level\'s groups)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the batches drawn (and of a fresh '
                        'initialisation): the same seed, the same numbers')
    return parser.parse_args()


def parse_loss(text):
    """``'JSDistanceLoss:tau=0.5'`` -> ``dict(type='JSDistanceLoss',
    tau=0.5)``; a ``region`` key stays in the dict (see
    :func:`build_loss`)."""
    name, _, options = text.partition(':')
    cfg = dict(type=name)
    for item in filter(None, options.split(',')):
        key, sep, value = item.partition('=')
        if not sep:
            sys.exit(f'--losses {text}: expected key=value, got {item!r}')
        try:
            cfg[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            cfg[key] = value  # a plain string, e.g. axis=channel
    return cfg


def build_loss(cfg):
    """The loss of a :func:`parse_loss` dict and its region (``'all'``
    unless the dict says ``region``), checked as the distiller checks it."""
    from mmdet.registry import MODELS

    from mmdet_sssd.models.distill.regions import check_region
    cfg = dict(cfg)
    region = cfg.pop('region', 'all')
    loss = MODELS.build(cfg)
    check_region(region, [loss])
    return loss, region


def _flat_grad(value, feats):
    """The gradient of ``value`` on all levels' maps, as one vector."""
    import torch
    grads = torch.autograd.grad(value, feats, retain_graph=True)
    return torch.cat([g.flatten() for g in grads])


def logit_term(model, feats, teacher, samples):
    """The config's logit loss (lambda = 1) between the head's logits on
    the student's maps and on the teacher's, as the distiller computes
    it, the student's logits (one (N, A * K, H, W) per level) and its
    classification loss on them; None without a logit loss."""
    from mmdet_sssd.models.teachers.terms import flat
    loss = model.label_term.logit_loss
    if loss is None:
        return None
    (losses, ours, mask), (_, theirs, _) = model.head_runner.run(
        [feats, teacher], samples, [True, True], True,
        model.mask_ignored_anchors)
    cls = losses['loss_cls']
    cls = sum(cls) if isinstance(cls, (list, tuple)) else cls
    return loss(flat(ours), flat(theirs).detach(), weight=mask), ours, cls


def split_by_anchor(model, term, samples, sums, levels=False):
    """Adds the batch's logit-term and classification-loss gradients on
    the student's logits (``term``: :func:`logit_term`'s) to ``sums``, a
    ``GroupSums`` by anchor group, or with ``levels`` (``--levels``) the
    ``GroupSums`` of :func:`level_sums`, by level and group (index
    ``level * len(GROUPS) + group``: :func:`level_tables`)."""
    import torch

    from mmdet_sssd.analysis.anchor_gradients import (GROUPS, anchor_groups,
                                                      entries, level_index)
    value, ours, cls = term
    head = model.head_runner.heads[0]
    groups = anchor_groups(head, ours, samples)
    grads = [entries(torch.autograd.grad(v, ours, retain_graph=True),
                     head.num_classes) for v in (value, cls)]
    if levels:
        groups = level_index(ours, head.num_classes) * len(GROUPS) + groups
    sums.add(groups, *grads)


def level_sums(head):
    """The ``GroupSums`` of ``--levels``: by level and group."""
    from mmdet_sssd.analysis.anchor_gradients import GROUPS, GroupSums
    return GroupSums([f'{n}: {g}' for n in level_names(head)
                      for g in GROUPS])


def level_names(head):
    """The head's FPN levels by stride: 'stride 8', ..."""
    return [f'stride {s[0] if isinstance(s, (tuple, list)) else s}'
            for s in head.prior_generator.strides]


def level_tables(sums, head):
    """By group, by level, by level and group, from ``level_sums``'."""
    from mmdet_sssd.analysis.anchor_gradients import GROUPS
    cross = range(len(sums.names))
    return [sums.merged([i % len(GROUPS) for i in cross], GROUPS),
            sums.merged([i // len(GROUPS) for i in cross],
                        level_names(head)), sums]


def measure(model, loader, losses, num_batches, anchor_sums=None,
            levels=False):
    """Means over batches: (value, gradient norm on the student's maps) of
    the student's detection loss, and (value, gradient norm, cosine with
    the detection gradient) of each distillation loss, then of the
    config's logit loss if it has one; with ``anchor_sums`` (the
    ``GroupSums`` of :func:`split_by_anchor`, by level and group with
    ``levels``), the logit term's and the classification loss's gradients
    on the student's logits are added to them."""
    import torch
    import torch.nn.functional as F

    from mmdet_sssd.models.distill.feature_loss import feature_loss
    from mmdet_sssd.models.distill.regions import box_cell_masks
    with_logits = model.label_term.logit_loss is not None
    with_masks = any(region == 'boxes' for _, region in losses)
    sums = [[0.0, 0.0, 0.0] for _ in range(len(losses) + with_logits)]
    det_sums = [0.0, 0.0]
    count = 0
    for batch in loader:
        if count == num_batches:
            break
        data = model.data_preprocessor(batch, True)
        samples = data['data_samples']
        with torch.no_grad():
            feats = model.student.extract_feat(data['inputs'])
        feats = [f.requires_grad_() for f in feats]
        teacher = model.teacher(feats, samples)
        detection, _ = model.student.parse_losses(
            model.head_runner.loss(feats, samples))
        det_grad = _flat_grad(detection, feats)
        det_sums[0] += detection.item()
        det_sums[1] += det_grad.norm().item()
        masks = box_cell_masks(samples, feats, model.region_strides) \
            if with_masks else None
        values = [
            feature_loss(loss, model.label_term.adapter, feats, teacher,
                         model.level_weights,
                         masks if region == 'boxes' else None)
            for loss, region in losses
        ]
        if with_logits:
            term = logit_term(model, feats, teacher, samples)
            values.append(term[0])
            if anchor_sums is not None:
                split_by_anchor(model, term, samples, anchor_sums, levels)
        for total, value in zip(sums, values):
            grad = _flat_grad(value, feats)
            total[0] += value.item()
            total[1] += grad.norm().item()
            total[2] += F.cosine_similarity(grad, det_grad, dim=0).item()
        count += 1
    return ((det_sums[0] / count, det_sums[1] / count),
            [tuple(x / count for x in row) for row in sums])


def main():
    args = parse_args()
    from mmdet.registry import MODELS
    from mmengine.runner import Runner
    from mmengine.runner.utils import set_random_seed

    from mmdet_sssd.utils import load_model

    set_random_seed(args.seed)
    # without a checkpoint: the fresh parameters, not the init_cfg's
    cfg, model, _ = load_model(args.config, args.checkpoint,
                               args.cfg_options, teacher=True)
    model.train()  # the maps as in training (BN on batch statistics)
    if args.losses:
        labels = args.losses
        losses = [build_loss(parse_loss(t)) for t in args.losses]
    else:  # LGD's MSE and the config's own loss, as built
        labels = ['MSELoss']
        losses = [(MODELS.build(dict(type='MSELoss')), 'all')]
        own = model.label_term.feat_loss
        if own is not None and type(own).__name__ != 'MSELoss':
            labels.append(f'{type(own).__name__} (the config\'s)')
            losses.append((own, model.distill_region))
    if model.label_term.logit_loss is not None:
        labels.append(f'{type(model.label_term.logit_loss).__name__} '
                      f'(the config\'s, on the logits)')
    anchor_sums = None
    if args.levels and not args.anchors:
        sys.exit('--levels splits the --anchors table: give both')
    if args.anchors:
        if model.label_term.logit_loss is None:
            sys.exit(f'--anchors: {args.config} has no logit_distill_loss '
                     f'(the term whose gradient it splits)')
        from mmdet_sssd.analysis.anchor_gradients import (
            GroupSums, check_anchor_head)
        try:
            check_anchor_head(model.head_runner.heads[0])
        except TypeError as e:
            sys.exit(f'--anchors: {e}')
        anchor_sums = level_sums(model.head_runner.heads[0]) \
            if args.levels else GroupSums()
    loader = Runner.build_dataloader(cfg.train_dataloader)
    (det_value, det_grad), rows = measure(model, loader, losses,
                                          args.batches, anchor_sums,
                                          args.levels)
    ref = rows[0][1]
    where = (f'checkpoint {args.checkpoint}' if args.checkpoint else
             'at initialisation')
    print(f'\n{args.batches} training batches, {where}; the config\'s '
          f'initial lambda: {model.distill_coef:g}\n\n'
          f'| loss | value | grad norm | lambda to match {labels[0]} | '
          'grad / detection grad | cosine with detection grad |\n'
          '|---|---|---|---|---|---|\n'
          f'| detection (the student\'s) | {det_value:.4f} | '
          f'{det_grad:.3e} | | 1 | 1 |')
    for label, (value, grad, cosine) in zip(labels, rows):
        print(f'| {label} | {value:.4f} | {grad:.3e} | {ref / grad:.2f} | '
              f'{grad / det_grad:.3f} | {cosine:+.3f} |')

    if anchor_sums is not None:
        tables = level_tables(anchor_sums, model.head_runner.heads[0]) \
            if args.levels else [anchor_sums]
        for i, (sums, by) in enumerate(zip(tables, (
                'what the head\'s assigner made of each (anchor, class) '
                'entry', 'the FPN level of each entry',
                'the FPN level and the assigner\'s group of each entry '
                '(empty groups left out)'))):
            print_anchor_table(sums.table(), by, skip_empty=i == 2)


def print_anchor_table(rows, by, skip_empty=False):
    """The ``--anchors`` table of ``GroupSums.table()``'s rows; ``by``:
    what the rows split the entries by; ``skip_empty``: leave out the
    groups without entries."""
    import math
    print('\nThe logit term\'s gradient on the student\'s classification '
          f'logits (a) and the detection loss\'s (b, loss_cls), by {by}\n\n'
          '| group | share of entries | share of a^2 | share of b^2 | '
          'cosine(a, b) | mean a | mean b |\n|---|---|---|---|---|---|---|')
    for row in rows:
        if skip_empty and not row['entries']:
            continue
        # n/a: no cosine where one gradient is 0 (the detection loss on
        # the ignored anchors), no mean for an empty group (no padding)
        cosine, a_mean, b_mean = (
            'n/a' if math.isnan(row[key]) else f'{row[key]:{spec}}'
            for key, spec in (('cosine', '+.3f'), ('a_mean', '+.2e'),
                              ('b_mean', '+.2e')))
        print(f'| {row["group"]} | {row["entries"]:.4f} | '
              f'{row["a_share"]:.3f} | {row["b_share"]:.3f} | {cosine} | '
              f'{a_mean} | {b_mean} |')


if __name__ == '__main__':
    main()
