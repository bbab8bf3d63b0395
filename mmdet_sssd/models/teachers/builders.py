# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Builds the distiller's terms from its config, completed with and checked
against the student: the label teacher, the frozen pretrained teacher, and
the build-time checks of what was combined."""
import copy
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS

from ..distill.levels import neck_levels
from ..distill.runners import DetectorRunner
from .frozen_detector import FrozenDetector
from .terms import DistillTerm, PretrainedTeacherTerm


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
                     name: str) -> Optional[PretrainedTeacherTerm]:
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
        if runner.two_stage:
            raise TypeError(
                f'SSSDDistiller: pretrained_teacher.logit_loss pairs the '
                f'dense head logits of student and teacher anchor by '
                f'anchor; {name} is two-stage. Use feat_loss only')
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
    return PretrainedTeacherTerm(teacher, adapter, feat_loss, logit_loss)


def check_terms(terms: Sequence[DistillTerm], runner: DetectorRunner,
                name: str, mask_ignored_anchors: bool,
                logit_grad_to: str = 'all') -> None:
    """Build-time checks of what the distiller was asked to combine."""
    if logit_grad_to not in ('all', 'head', 'maps'):
        raise ValueError(f"SSSDDistiller: logit_grad_to must be 'all', "
                         f"'head' or 'maps', got {logit_grad_to!r}")
    if not terms:
        raise ValueError('SSSDDistiller: nothing to distil from; give a '
                         'teacher, a pretrained_teacher or both')
    if any(t.with_logits for t in terms):
        runner.logit_head(name)
    for loss in (t.logit_loss for t in terms if t.with_logits):
        sigmoid = getattr(loss, 'use_sigmoid', None)
        if sigmoid is not None and sigmoid != (
                runner.logit_activation == 'sigmoid'):
            raise TypeError(
                f'SSSDDistiller: the logit loss {type(loss).__name__} takes '
                f'{"sigmoid" if sigmoid else "softmax"} logits, the head of '
                f'{name} gives {runner.logit_activation} ones; set its '
                f'use_sigmoid={not sigmoid}')
    if mask_ignored_anchors:
        if not any(t.with_logits for t in terms):
            raise ValueError(
                'SSSDDistiller: mask_ignored_anchors masks the logit '
                'losses; give logit_distill_loss or '
                'pretrained_teacher.logit_loss')
        runner.anchor_mask_head(name)
    if logit_grad_to != 'all' and not any(t.with_logits for t in terms):
        raise ValueError(
            f'SSSDDistiller: logit_grad_to={logit_grad_to!r} routes the '
            f'logit losses\' gradient; give logit_distill_loss or '
            f'pretrained_teacher.logit_loss')
    if logit_grad_to != 'all' and runner.two_stage:
        raise TypeError(
            f'SSSDDistiller: logit_grad_to={logit_grad_to!r} reruns a dense '
            f'head on the student\'s maps; {name} is two-stage: use \'all\'')


def prefixed(losses: dict, prefix: str = 'teacher.') -> dict:
    """The head's losses on teacher maps as ``teacher.<key>``."""
    return {f'{prefix}{k}': v for k, v in losses.items()}
