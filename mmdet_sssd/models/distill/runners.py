# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Head runners: a detector's own head(s) on given FPN maps, one class per
detector family. A new family is a new runner (and a line in
:func:`build_runner`)."""
from contextlib import contextmanager
from typing import List, NamedTuple, Optional, Sequence

import torch
import torch.nn as nn
from mmdet.models.dense_heads import (ATSSHead, FCOSHead, FoveaHead, GFLHead)
from mmdet.models.dense_heads.anchor_head import AnchorHead
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.models.detectors import (BaseDetector, SingleStageDetector,
                                    TwoStageDetector)
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.models.utils import unpack_gt_instances
from mmdet.structures import SampleList
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils._pytree import tree_map

# `get_targets` of these classes reads only priors and GT (not the
# predictions): with a deterministic sampler, student and teacher passes
# get the same targets, so they are computed once.
_PRED_FREE_TARGETS = tuple(
    cls.get_targets
    for cls in (AnchorHead, ATSSHead, FCOSHead, FoveaHead, GFLHead))


def trains_as_anchor_head(head: nn.Module) -> bool:
    """True if ``head`` trains a sigmoid classifier on
    ``AnchorHead.get_targets``' labels as ``AnchorHead.loss_by_feat`` does,
    every anchor it does not ignore counted (``PseudoSampler``), as
    RetinaNet's head does: then a label weight of 0 marks exactly the
    anchors its assigner ignores (a sampler or its own loss would mark, or
    count, others)."""
    return (isinstance(head, AnchorHead)
            and getattr(head, 'use_sigmoid_cls', False)
            and type(head).get_targets is AnchorHead.get_targets
            and type(head).loss_by_feat is AnchorHead.loss_by_feat
            and type(getattr(head, 'sampler', None)).__name__ ==
            'PseudoSampler')


class HeadOutput(NamedTuple):
    """What the head(s) gave on one set of maps."""
    losses: dict
    #: classification logits, one (N, A * K, H, W) per level (a dense
    #: head), or one (R, K + 1) for the student's sampled RoIs (a RoI
    #: head), or None
    logits: Optional[List[Tensor]] = None
    #: (N, sum_l A * K * H_l * W_l), the layout of the flattened logits: 0
    #: where the assigner ignores the anchor (label weight 0), else 1
    anchor_mask: Optional[Tensor] = None


@contextmanager
def maps_as_features(detector: BaseDetector, maps: Sequence[Tensor]):
    """Within it ``detector.extract_feat`` returns ``maps``, so the
    detector's own ``loss`` and ``predict`` run from them, unchanged."""
    own = vars(detector).get('extract_feat')  # a wrapper someone set
    detector.extract_feat = lambda _: maps
    try:
        yield
    finally:
        _put_back(detector, 'extract_feat', own)


def _put_back(obj, name: str, own) -> None:
    """Undoes a ``setattr(obj, name, ...)``: puts back ``own``, what the
    instance itself held before (a wrapper someone set), or with none
    removes the attribute so that the class's shows again."""
    if own is None:
        delattr(obj, name)
    else:
        setattr(obj, name, own)


@contextmanager
def no_weight_grad(modules: Sequence[nn.Module], enabled: bool = True):
    """Runs the modules without gradients for their parameters (inputs
    still get theirs)."""
    params = [p for m in modules for p in m.parameters()
              if enabled and p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@contextmanager
def kept_running_stats(module: nn.Module):
    """Within it, the module runs as it is (batch statistics in training)
    but its BatchNorm layers' running statistics are put back on exit: a
    pass that scores, not one that trains, leaves them as they were."""
    saved = [(m, {k: v.clone() for k, v in m.named_buffers(recurse=False)})
             for m in module.modules() if isinstance(m, _BatchNorm)]
    try:
        yield
    finally:
        for m, buffers in saved:
            for k, v in buffers.items():
                getattr(m, k).copy_(v)


class _CallRecorder:
    """Within it, records the arguments and result of each call of
    ``obj.name`` (as MMRazor's method recorders do), calling it unchanged."""

    def __init__(self, obj, name: str) -> None:
        self.obj, self.name, self.calls = obj, name, []
        self.fn = getattr(obj, name)
        # an attribute of the instance itself (a wrapper someone set) is
        # put back on exit, not deleted
        self.own = vars(obj).get(name)

    def __call__(self, *args, **kwargs):
        result = self.fn(*args, **kwargs)
        self.calls.append((args, kwargs, result))
        return result

    def __enter__(self):
        setattr(self.obj, self.name, self)
        return self

    def __exit__(self, *exc) -> None:
        _put_back(self.obj, self.name, self.own)


class _Replay(_CallRecorder):
    """Records the results of ``obj.name`` in the first pass and, with
    ``replay``, replays them, call by call, in the next ones (:meth:`rewind`
    between passes); without, the next passes call it again."""

    def __init__(self, obj, name: str, replay: bool = True) -> None:
        super().__init__(obj, name)
        self.replay, self.pos = replay, 0

    @property
    def results(self) -> list:
        return [result for _, _, result in self.calls]

    def __call__(self, *args, **kwargs):
        if self.replay and self.pos < len(self.calls):
            result = self.calls[self.pos][2]
        else:
            result = self.fn(*args, **kwargs)
            if self.pos == len(self.calls):
                self.calls.append((args, kwargs, result))
        self.pos += 1
        return result

    def rewind(self) -> None:
        self.pos = 0


class DetectorRunner:
    """Any detector whose ``loss`` starts from ``extract_feat``: its own
    ``loss`` on each set of maps, one after the other."""

    two_stage = False
    #: how the head's classifier turns the logits the logit losses take
    #: into probabilities
    logit_activation = 'sigmoid'

    def __init__(self, detector: BaseDetector) -> None:
        self.detector = detector

    @property
    def heads(self) -> List[nn.Module]:
        raise NotImplementedError

    @property
    def prior_head(self) -> nn.Module:
        """The head whose priors sit on the FPN levels."""
        return self.heads[0]

    @property
    def num_classes(self) -> Optional[int]:
        return getattr(self.heads[-1], 'num_classes', None)

    def prior_strides(self, num_levels: int) -> Optional[List[tuple]]:
        """``(sx, sy)`` of the priors the head puts on each FPN level (the
        RPN's for two-stage detectors); None without a prior generator."""
        strides = getattr(getattr(self.prior_head, 'prior_generator', None),
                          'strides', None)
        if strides is None or len(strides) != num_levels:
            return None
        return [tuple(float(v) for v in (s if isinstance(s, (list, tuple))
                                         else (s, s))) for s in strides]

    def logit_head(self, name: str) -> nn.Module:
        raise TypeError(
            f'SSSDDistiller: logit distillation needs a single-stage '
            f'detector whose dense head computes its loss from its outputs '
            f'(BaseDenseHead.loss) or a two-stage one with a '
            f'StandardRoIHead; {name} is neither')

    def anchor_mask_head(self, name: str) -> nn.Module:
        raise TypeError(
            f'SSSDDistiller: mask_ignored_anchors needs a single-stage '
            f'anchor head whose loss skips its assigner\'s ignore band as '
            f'AnchorHead trains it (get_targets, loss_by_feat, a '
            f'PseudoSampler; e.g. RetinaNet); {name} has none')

    def loss(self, maps: Sequence[Tensor], samples: SampleList) -> dict:
        with maps_as_features(self.detector, maps):
            return self.detector.loss(maps, samples)

    def predict(self, maps: Sequence[Tensor], samples: SampleList,
                rescale: bool = True) -> SampleList:
        with maps_as_features(self.detector, maps):
            return self.detector.predict(maps, samples, rescale=rescale)

    def run(self, map_sets: List[Sequence[Tensor]], samples: SampleList,
            head_grads: List[bool], with_logits: bool = False,
            with_anchor_mask: bool = False) -> List[HeadOutput]:
        """Losses (and logits) of the head(s) on each set of maps; the
        parameters of the head(s) get no gradient from the sets whose
        ``head_grads`` is False. ``with_anchor_mask``: the first set's
        output carries the assigner's ignore mask."""
        name = type(self.detector).__name__
        if with_logits:
            self.logit_head(name)
        if with_anchor_mask:
            self.anchor_mask_head(name)
        out = []
        for maps, grad in zip(map_sets, head_grads):
            with no_weight_grad(self.heads, not grad):
                out.append(HeadOutput(self.loss(maps, samples)))
        return out


class DenseHeadRunner(DetectorRunner):
    """Single-stage detectors. With ``BaseDenseHead.loss``, the head runs
    once on all sets of maps stacked on the batch axis (no BatchNorm in the
    head), keeps the classification logits, and computes prediction-free
    targets once for all sets."""

    @property
    def heads(self) -> List[nn.Module]:
        return [self.detector.bbox_head]

    @property
    def two_step(self) -> bool:
        return type(self.heads[0]).loss is BaseDenseHead.loss

    @property
    def shares_targets(self) -> bool:
        head = self.heads[0]
        sampler = type(getattr(head, 'sampler', None)).__name__
        return (self.two_step and getattr(type(head), 'get_targets', None)
                in _PRED_FREE_TARGETS
                and sampler in ('PseudoSampler', 'NoneType'))

    @property
    def stacks(self) -> bool:
        return self.two_step and not any(
            isinstance(m, _BatchNorm) for m in self.heads[0].modules())

    def logit_head(self, name: str) -> nn.Module:
        head = self.heads[0]
        if not self.two_step:
            super().logit_head(name)
        if not getattr(head, 'use_sigmoid_cls', False):
            raise TypeError(f'SSSDDistiller: logit distillation needs a '
                            f'sigmoid classifier; the head of {name} uses '
                            f'softmax')
        return head

    def logits(self, maps: Sequence[Tensor],
               weight_grad: bool = True) -> List[Tensor]:
        """The head's classification logits on ``maps``, one (N, A * K,
        H, W) per level, as :meth:`run` keeps them; with ``weight_grad``
        False the head's weights get no gradient from them."""
        head = self.heads[0]
        with no_weight_grad([head], not weight_grad):
            return head(tuple(maps))[0]

    def anchor_mask_head(self, name: str) -> nn.Module:
        head = self.logit_head(name)
        if not trains_as_anchor_head(head):
            super().anchor_mask_head(name)
        return head

    def run(self, map_sets, samples, head_grads, with_logits=False,
            with_anchor_mask=False):
        if not self.two_step:
            return super().run(map_sets, samples, head_grads, with_logits,
                               with_anchor_mask)
        if with_anchor_mask:
            self.anchor_mask_head(type(self.detector).__name__)
        head, num = self.heads[0], len(map_sets)
        if self.stacks and all(head_grads) and num > 1:
            outs = head(tuple(torch.cat(level) for level in zip(*map_sets)))
            outs_list = [tree_map(lambda t, i=i: t.chunk(num)[i]
                                  if torch.is_tensor(t) else t, outs)
                         for i in range(num)]
        else:
            outs_list = []
            for maps, grad in zip(map_sets, head_grads):
                with no_weight_grad([head], not grad):
                    outs_list.append(head(maps))
        gt, gt_ignore, metas = unpack_gt_instances(samples)
        replay = _Replay(head, 'get_targets', self.shares_targets) if (
            self.shares_targets or with_anchor_mask) else None
        # the priors depend on the maps' sizes only, the same in all sets
        priors = _Replay(head, 'get_anchors') if self.shares_targets and \
            hasattr(head, 'get_anchors') else None
        results = []
        with replay or _nothing(), priors or _nothing():
            for outs in outs_list:
                replay and replay.rewind()
                priors and priors.rewind()
                losses = head.loss_by_feat(*outs, gt, metas, gt_ignore)
                results.append(
                    HeadOutput(losses, outs[0] if with_logits else None))
        if with_anchor_mask:
            results[0] = results[0]._replace(anchor_mask=anchor_mask(
                replay.results[0][1], outs_list[0][0]))
        return results


class TwoStageRunner(DetectorRunner):
    """Two-stage detectors: the RPN (its own proposals) and the RoI head,
    through the detector's own ``loss``. The logits it keeps are the box
    head's (R, K + 1) class scores for the RoIs the student's pass sampled:
    on the student's maps as that pass computed them, and on each other
    set of maps for the same RoIs."""

    two_stage = True
    logit_activation = 'softmax'

    @property
    def heads(self) -> List[nn.Module]:
        return [self.detector.rpn_head, self.detector.roi_head]

    @property
    def num_classes(self) -> Optional[int]:
        head = self.detector.roi_head.bbox_head
        head = head[0] if isinstance(head, nn.ModuleList) else head
        return getattr(head, 'num_classes', None)

    def logit_head(self, name: str) -> nn.Module:
        """The box head, where the RoI head is a ``StandardRoIHead`` that
        trains it as mmdet's does (one ``_bbox_forward(x, rois)`` per
        ``loss``, e.g. Faster R-CNN's) with a softmax over K classes and
        the background."""
        roi_head = self.detector.roi_head
        head = getattr(roi_head, 'bbox_head', None)
        if not isinstance(roi_head, StandardRoIHead):
            super().logit_head(name)
        if type(roi_head).bbox_loss is not StandardRoIHead.bbox_loss:
            raise TypeError(
                f'SSSDDistiller: logit distillation of a RoI head reads the '
                f'class scores of StandardRoIHead.bbox_loss\'s one box-head '
                f'pass; the {type(roi_head).__name__} of {name} trains its '
                f'box head in its own bbox_loss (supported: StandardRoIHead '
                f'and subclasses that keep its bbox_loss, e.g. Faster and '
                f'Mask R-CNN\'s)')
        if not (isinstance(head, BBoxHead) and
                getattr(head, 'with_cls', False)):
            raise TypeError(
                f'SSSDDistiller: logit distillation of a RoI head needs a '
                f'BBoxHead with a classifier (cls_score); the '
                f'{type(head).__name__} of {name} has none')
        if head.custom_cls_channels or \
                getattr(head.loss_cls, 'use_sigmoid', False):
            raise TypeError(f'SSSDDistiller: logit distillation of a RoI '
                            f'head needs a softmax over the classes and the '
                            f'background; the box head of {name} uses '
                            f'{type(head.loss_cls).__name__} differently')
        return head

    def run(self, map_sets, samples, head_grads, with_logits=False,
            with_anchor_mask=False):
        if not with_logits:
            return super().run(map_sets, samples, head_grads, False,
                               with_anchor_mask)
        name = type(self.detector).__name__
        self.logit_head(name)
        if with_anchor_mask:
            self.anchor_mask_head(name)
        roi_head = self.detector.roi_head
        with no_weight_grad(self.heads, not head_grads[0]), \
                _CallRecorder(roi_head, '_bbox_forward') as recorder:
            losses = self.loss(map_sets[0], samples)
        if len(recorder.calls) != 1:
            raise RuntimeError(
                f'SSSDDistiller: the {type(roi_head).__name__} of {name} '
                f'ran _bbox_forward {len(recorder.calls)} times in one loss; '
                f'the RoI logit loss pairs the RoIs of its one pass in '
                f'StandardRoIHead.bbox_loss: drop logit_distill_loss for '
                f'this detector')
        (_, rois), _, result = recorder.calls[0]
        out = [HeadOutput(losses, [result['cls_score']])]
        for maps, grad in zip(map_sets[1:], head_grads[1:]):
            with no_weight_grad(self.heads, not grad):
                losses = self.loss(maps, samples)
            # a target: the logit losses detach it; the box head scores the
            # student's RoIs in its training mode, as the student's pass did,
            # but its BatchNorm statistics do not count this pass
            with torch.no_grad(), kept_running_stats(roi_head):
                theirs = roi_head._bbox_forward(tuple(maps), rois)
            out.append(HeadOutput(losses, [theirs['cls_score']]))
        return out


@contextmanager
def _nothing():
    yield


def anchor_mask(label_weights: List[Tensor],
                cls_scores: List[Tensor]) -> Tensor:
    """The label weights of ``AnchorHead.get_targets`` (one (N, H*W*A) per
    level, anchors in (H, W, A) order) laid out as the flattened logits
    (one (N, A * K, H, W) per level): 1 where the weight is positive, 0
    where the assigner ignores the anchor (e.g. RetinaNet's IoU 0.4-0.5)."""
    masks = []
    for weights, score in zip(label_weights, cls_scores):
        n, channels, h, w = score.shape
        a = weights.shape[1] // (h * w)
        mask = weights.reshape(n, h, w, a).permute(0, 3, 1, 2)[:, :, None]
        masks.append(mask.expand(n, a, channels // a, h, w).flatten(1))
    return (torch.cat(masks, dim=1) > 0).to(cls_scores[0].dtype)


def build_runner(detector: BaseDetector) -> DetectorRunner:
    """The runner of the detector's family; TypeError for others."""
    name = type(detector).__name__
    if isinstance(detector, SingleStageDetector):
        if name == 'RPN':
            raise TypeError(f'SSSDDistiller: {name} is a proposal network '
                            f'and has no class labels to distill')
        return DenseHeadRunner(detector)
    if isinstance(detector, TwoStageDetector):
        if not (detector.with_rpn and detector.with_roi_head):
            raise TypeError(f'SSSDDistiller: two-stage detector {name} '
                            f'needs both rpn_head and roi_head')
        return TwoStageRunner(detector)
    raise TypeError(
        f'SSSDDistiller supports single-stage (SingleStageDetector) and '
        f'two-stage (TwoStageDetector) detectors; {name} is neither. '
        f'DETR-like, semi-supervised and other detector families are not '
        f'supported yet')
