# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Per-batch checks that mmdet's hooks lack: ``NumClassCheckHook`` checks
the head against the dataset once, ``CheckInvalidLossHook`` looks at the
loss every ``interval`` iterations *after* the weights took it. These raise
before the step, naming the iteration and the images; each costs one
device sync (the target check is one reduction over the whole batch)."""
from typing import Dict, Sequence

import torch
from mmdet.structures import SampleList
from mmengine.logging import MessageHub
from torch import Tensor


def where(samples: SampleList) -> str:
    hub = MessageHub.get_current_instance()
    paths = [s.metainfo.get('img_path', s.metainfo.get('img_id'))
             for s in samples]
    return f'at iteration {hub.get_info("iter", 0) + 1}, images {paths}'


def _problem(boxes: Tensor, labels: Tensor, num_classes: int) -> str:
    if not bool(torch.isfinite(boxes).all()):
        return f'non-finite boxes {boxes.tolist()}'
    empty = ((boxes[:, 2:] - boxes[:, :2]) <= 0).any(1)
    if bool(empty.any()):
        return (f'boxes of zero or negative width/height '
                f'{boxes[empty].tolist()}')
    if bool(((labels < 0) | (labels >= num_classes)).any()):
        return f'labels {labels.tolist()} outside [0, {num_classes})'
    return ''


def check_targets(samples: SampleList, num_classes: int) -> None:
    """Non-finite boxes, boxes without area (the box coders take their
    log) and out-of-range labels would corrupt the weights."""
    gts = [s.gt_instances for s in samples]
    boxes = torch.cat([getattr(g.bboxes, 'tensor', g.bboxes) for g in gts])
    labels = torch.cat([g.labels for g in gts])
    ok = (torch.isfinite(boxes).all(1)
          & ((boxes[:, 2:] - boxes[:, :2]) > 0).all(1)
          & (labels >= 0) & (labels < num_classes))
    if bool(ok.all()):
        return
    for sample, gt in zip(samples, gts):
        problem = _problem(getattr(gt.bboxes, 'tensor', gt.bboxes),
                           gt.labels, num_classes)
        if problem:
            raise ValueError(
                f'SSSDDistiller: {problem} in '
                f'{sample.metainfo.get("img_path")} {where(samples)}. Fix '
                f'or remove these annotations (mmdet\'s CocoDataset skips '
                f'boxes under 1 pixel; TrainDataCheckHook lists the bad '
                f'ones before training)')


def check_losses(losses: Dict[str, Tensor], feats: Sequence[Tensor],
                 samples: SampleList) -> None:
    """Raise before the optimizer step if any loss is NaN or inf."""
    values = {
        k: torch.stack([x.sum() for x in v]).sum()
        if isinstance(v, (list, tuple)) else v.sum()
        for k, v in losses.items() if 'loss' in k
    }
    if bool(torch.isfinite(torch.stack(list(values.values()))).all()):
        return
    bad = [k for k, v in values.items() if not torch.isfinite(v)]
    feats_ok = all(bool(torch.isfinite(f).all()) for f in feats)
    state = ('finite' if feats_ok else
             'NOT finite (the weights or inputs already hold NaN/inf)')
    raise FloatingPointError(
        f'SSSDDistiller: non-finite losses {bad} {where(samples)}; the '
        f'weights were not updated with them. The student\'s FPN maps are '
        f'{state}. Lower the learning rate, clip gradients '
        f'(optim_wrapper.clip_grad) or check these images, then resume '
        f'from the last checkpoint')


def check_gt_present(samples: SampleList) -> None:
    """The label teacher at test time needs each image's GT."""
    for sample in samples:
        if 'gt_instances' not in sample:
            raise ValueError(
                f'SSSDDistiller: predict_with_teacher needs the GT of '
                f'each test image; {sample.get("img_path", "an image")} '
                f'has none. Add LoadAnnotations to the test pipeline, '
                f'before Resize')
