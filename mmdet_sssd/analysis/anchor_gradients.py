# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Where a gradient on a dense anchor head's classification logits goes:
split by what the head's own assigner made of each anchor.

Used by ``tools/analysis_tools/distill_grad_scale.py --anchors`` to ask
where a logit distillation term pulls (on the objects' own classes, on
their other classes, on the anchors the assigner ignores, on the
background) and whether it pulls there with the detection loss or
against it.
"""
from typing import Dict, List, Sequence

import torch
from mmdet.models.dense_heads import AnchorHead
from mmdet.models.task_modules.prior_generators import anchor_inside_flags
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import SampleList
from torch import Tensor

from mmdet_sssd.models.distill.runners import trains_as_anchor_head

#: the groups of (anchor, class) entries, in the order of the table;
#: "ignored": inside the image, label weight 0 (RetinaNet: best IoU
#: between its neg and pos thresholds); "outside": the anchors the head
#: never assigns (beyond its allowed border or on a batch's padding)
GROUPS = ('positive, its own class', 'positive, other classes',
          'ignored by the assigner', 'background',
          'outside the image or on padding')


def check_anchor_head(head) -> None:
    """Raises TypeError unless ``head`` trains as RetinaNet's head does
    (:func:`~mmdet_sssd.models.distill.runners.trains_as_anchor_head`)."""
    if not trains_as_anchor_head(head):
        raise TypeError(f'anchor groups need an anchor head with a sigmoid '
                        f'classifier trained as AnchorHead trains it '
                        f'(get_targets, loss_by_feat, a PseudoSampler; e.g. '
                        f'RetinaHead); got {type(head).__name__}')


def anchor_groups(head: AnchorHead, logits: Sequence[Tensor],
                  samples: SampleList) -> Tensor:
    """The group (an index into :data:`GROUPS`) of each classification
    logit, from the head's own anchors and ``get_targets``.

    Args:
        head: An anchor head with a sigmoid classifier whose targets are
            ``AnchorHead.get_targets``' (e.g. RetinaNet's).
        logits: The head's classification outputs, one (N, A * K, H, W)
            per level.
        samples: The batch's data samples (ground truth and metainfo).

    Returns:
        Tensor: (N, sum_l H_l * W_l * A, K) long, the entries in the
        anchors' order (:func:`entries`).
    """
    check_anchor_head(head)
    gt, gt_ignore, metas = unpack_gt_instances(samples)
    anchors, valid = head.get_anchors([x.shape[-2:] for x in logits], metas,
                                      device=logits[0].device)
    labels, weights = head.get_targets(anchors, valid, gt, metas,
                                       gt_ignore)[:2]
    labels, weights = torch.cat(labels, 1), torch.cat(weights, 1)
    # as get_targets decides which anchors it assigns at all
    inside = torch.stack([
        anchor_inside_flags(torch.cat(a), torch.cat(v),
                            meta['img_shape'][:2],
                            head.train_cfg['allowed_border'])
        for a, v, meta in zip(anchors, valid, metas)])
    num_classes = head.num_classes
    own = torch.zeros(*labels.shape, num_classes + 1, dtype=torch.bool,
                      device=labels.device)
    own.scatter_(2, labels.unsqueeze(2), True)
    own = own[..., :num_classes]
    positive = ((labels < num_classes) & (weights > 0)).unsqueeze(2)
    groups = torch.full(own.shape, 3, dtype=torch.long, device=own.device)
    groups[positive.expand_as(own)] = 1
    groups[positive & own] = 0
    groups[(weights == 0).unsqueeze(2).expand_as(own)] = 2
    groups[(~inside).unsqueeze(2).expand_as(own)] = 4
    return groups


def entries(maps: Sequence[Tensor], num_classes: int) -> Tensor:
    """Per-level (N, A * K, H, W) maps as (N, sum_l H_l * W_l * A, K), the
    order of the anchors and of ``get_targets``' labels."""
    return torch.cat([x.permute(0, 2, 3, 1).reshape(x.shape[0], -1,
                                                    num_classes)
                      for x in maps], 1)


def level_index(logits: Sequence[Tensor], num_classes: int) -> Tensor:
    """The FPN level (0: the first, finest map) of each classification
    logit, in :func:`entries`' order: (N, sum_l H_l * W_l * A, K) long."""
    return entries([torch.full_like(x, i, dtype=torch.long)
                    for i, x in enumerate(logits)], num_classes)


class GroupSums:
    """Sums over batches, per group, of two gradients on the same logits
    (``a``: a distillation term's, ``b``: the detection loss's): entries,
    sum a, sum b, sum a^2, sum b^2, sum a * b.

    Args:
        names (Sequence[str]): The groups' names, in the order of their
            indices. Defaults to :data:`GROUPS` (:func:`anchor_groups`').
    """

    def __init__(self, names: Sequence[str] = GROUPS):
        self.names = tuple(names)
        self.sums = torch.zeros(len(self.names), 6, dtype=torch.float64)

    def add(self, groups: Tensor, a: Tensor, b: Tensor) -> None:
        """``groups`` (long, indices into the names, e.g. :data:`GROUPS`),
        ``a``, ``b``: tensors of one shape on one device."""
        a, b = a.double().flatten(), b.double().flatten()
        columns = torch.stack((torch.ones_like(a), a, b, a * a, b * b, a * b),
                              1)
        self.sums += columns.new_zeros(self.sums.shape).index_add_(
            0, groups.flatten(), columns).cpu()

    def merged(self, index: Sequence[int],
               names: Sequence[str]) -> 'GroupSums':
        """The sums with groups merged (the sums add): group ``i`` goes
        into ``names[index[i]]``; e.g. by level from by level and group."""
        out = GroupSums(names)
        out.sums.index_add_(0, torch.as_tensor(index), self.sums)
        return out

    def table(self) -> List[Dict[str, float]]:
        """Per group: its share of the entries, of ``a``'s squared norm and
        of ``b``'s; the cosine of ``a`` and ``b`` on it; each one's mean
        per entry (negative: the gradient raises the logits)."""
        count, sum_a, sum_b, aa, bb, ab = self.sums.T
        nan = float('nan')

        def share(x, i):
            return (x[i] / x.sum()).item() if x.sum() > 0 else nan

        rows = []
        for i, name in enumerate(self.names):
            norm = (aa[i] * bb[i]).sqrt()
            rows.append(dict(
                group=name, entries=share(count, i), a_share=share(aa, i),
                b_share=share(bb, i),
                cosine=(ab[i] / norm).item() if norm > 0 else nan,
                a_mean=(sum_a[i] / count[i]).item() if count[i] else nan,
                b_mean=(sum_b[i] / count[i]).item() if count[i] else nan))
        return rows
