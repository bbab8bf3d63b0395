# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Teachers behind one interface: per-level maps (and optionally logits)
for a batch, with the keys of their distillation losses."""
import copy
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from torch import Tensor

from ..detectors.frozen_detector import FrozenDetector
from .levels import neck_levels
from .runners import DetectorRunner


class LabelTeacher:
    """The implicit teacher (:class:`LabelEncoderTeacher`): maps from the
    student's maps and the labels. Its maps also go through the student's
    head(s) (``head_pass``), which give its logits and ``teacher.*``
    losses."""

    head_pass = True
    feat_key, logit_key = 'loss_distill', 'loss_distill_logits'

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def __call__(self, feats: Sequence[Tensor], batch_inputs: Tensor,
                 samples: SampleList, preprocessor: nn.Module,
                 with_logits: bool) -> Tuple[Sequence[Tensor], None]:
        return self.module(feats, samples), None


class PretrainedTeacher:
    """A frozen pretrained detector (:class:`FrozenDetector`): its own FPN
    maps and dense head logits from the images."""

    head_pass = False
    feat_key, logit_key = 'loss_pt_feat', 'loss_pt_logits'

    def __init__(self, detector: FrozenDetector) -> None:
        self.detector = detector

    def __call__(self, feats, batch_inputs, samples, preprocessor,
                 with_logits):
        return self.detector(batch_inputs, preprocessor, with_logits)


class Term(NamedTuple):
    """One teacher and the losses that pull the student toward it."""
    teacher: object
    adapter: Optional[nn.Module]
    feat_loss: Optional[nn.Module]
    logit_loss: Optional[nn.Module]


def build_label_teacher(cfg: Optional[dict], runner: DetectorRunner,
                        channels: int, levels: int,
                        name: str) -> Optional[nn.Module]:
    """The label teacher, completed with the student's shapes, the
    strides of its head's priors (where it paints the boxes) and LGD's
    ``detach_appearance`` for two-stage detectors."""
    if cfg is None:
        return None
    cfg = copy.deepcopy(cfg)
    for key, value in [('in_channels', channels), ('num_levels', levels),
                       ('num_classes', runner.num_classes)]:
        given = cfg.setdefault(key, value)
        if given != value:
            raise ValueError(
                f'SSSDDistiller: teacher.{key}={given} does not match the '
                f'detector {name} ({key}={value}); remove it from the '
                f'teacher config to use the detector\'s value')
    cfg.setdefault('detach_appearance', runner.two_stage)
    strides = runner.prior_strides(levels)
    if cfg.get('type') == 'LabelEncoderTeacher' and strides:
        cfg.setdefault('strides', strides)
    return MODELS.build(cfg)


def build_pretrained(cfg: Optional[dict], runner: DetectorRunner,
                     channels: int, num_levels: int,
                     name: str) -> Optional[Term]:
    """The frozen teacher, the student-side 1x1 adapter to its width and
    its feature and logit losses, checked against the student."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    known = {'config', 'checkpoint', 'feat_loss', 'logit_loss'}
    if set(cfg) - known or 'config' not in cfg:
        raise ValueError(
            f'SSSDDistiller: pretrained_teacher takes {sorted(known)} '
            f'(config required), got {sorted(cfg)}')
    feat_loss = cfg.get('feat_loss', dict(type='JSDistanceLoss'))
    logit_loss = cfg.get('logit_loss')
    if feat_loss is None and logit_loss is None:
        raise ValueError('SSSDDistiller: pretrained_teacher needs a '
                         'feat_loss, a logit_loss or both')
    teacher = FrozenDetector(cfg['config'], cfg.get('checkpoint'))
    adapter = None
    if feat_loss is not None:
        their_channels, their_levels = neck_levels(
            teacher.model, 'the pretrained teacher')
        if their_levels != num_levels:
            raise ValueError(
                f'SSSDDistiller: the pretrained teacher has {their_levels} '
                f'FPN levels, the student {num_levels}; feature '
                f'distillation pairs them level by level')
        # student -> teacher width (de Rijk et al.'s f, a 1x1 conv)
        adapter = ConvModule(channels, their_channels, 1, act_cfg=None)
        feat_loss = MODELS.build(feat_loss)
    if logit_loss is not None:
        ours, theirs = runner.logit_head(name), teacher.head
        mine, other = [(h.num_classes, getattr(h, 'num_base_priors', None),
                        h.prior_generator.strides) for h in (ours, theirs)]
        if mine != other:
            raise ValueError(
                f'SSSDDistiller: logit distillation needs the same classes, '
                f'priors per location and strides in student and teacher '
                f'heads; got {mine} and {other}. Use feat_loss only')
        logit_loss = MODELS.build(logit_loss)
    teacher.load()  # after the checks: they name the config's problem
    return Term(PretrainedTeacher(teacher), adapter, feat_loss, logit_loss)


def check_terms(terms: List[Term], runner: DetectorRunner, name: str,
                label_logit_loss: Optional[nn.Module],
                mask_ignored_anchors: bool, semi_supervised: bool,
                predict_with_teacher: bool) -> None:
    """Build-time checks of what the distiller was asked to combine."""
    with_label = any(isinstance(t.teacher, LabelTeacher) for t in terms)
    if label_logit_loss is not None:
        if not with_label:
            raise ValueError('SSSDDistiller: logit_distill_loss distils '
                             'the label teacher\'s logits; it needs a '
                             'teacher')
        runner.logit_head(name)
    if not terms:
        raise ValueError('SSSDDistiller: nothing to distil from; give a '
                         'teacher, a pretrained_teacher or both')
    pt_logits = any(isinstance(t.teacher, PretrainedTeacher)
                    and t.logit_loss is not None for t in terms)
    if semi_supervised and not pt_logits:
        raise ValueError(
            'SSSDDistiller: semi_supervised=True (SAD: training on '
            'pseudo-labeled images) needs a pretrained_teacher with a '
            'logit_loss, whose soft targets correct the pseudo-boxes; '
            'add pretrained_teacher=dict(config=..., checkpoint=..., '
            "logit_loss=dict(type='AdaptiveDistillLoss')) "
            '(see configs/sad/)')
    if mask_ignored_anchors:
        if not any(t.logit_loss is not None for t in terms):
            raise ValueError(
                'SSSDDistiller: mask_ignored_anchors masks the logit '
                'losses; give logit_distill_loss or '
                'pretrained_teacher.logit_loss')
        runner.anchor_mask_head(name)
    if predict_with_teacher and not with_label:
        raise ValueError('SSSDDistiller: predict_with_teacher scores the '
                         'label teacher; it needs a teacher')


def flat(logits: List[Tensor]) -> Tensor:
    """Per-level (N, A * K, H, W) logits as one (N, L) tensor."""
    return torch.cat([x.flatten(1) for x in logits], dim=1)


def prefixed(losses: dict, weight: float, prefix: str = 'teacher.') -> dict:
    """The head's losses on teacher maps as ``teacher.<key>``, the loss
    entries (tensors or lists of them) times ``weight``."""
    def scale(value):
        if isinstance(value, (list, tuple)):
            return [v * weight for v in value]
        return value * weight
    return {f'{prefix}{k}': scale(v) if 'loss' in k else v
            for k, v in losses.items()}
