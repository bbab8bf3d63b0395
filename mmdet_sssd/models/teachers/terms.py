# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Distillation terms: a teacher and the losses that pull the student
toward it, behind one interface the distiller loops over.

Each term is an ``nn.Module`` holding its adapter and losses, so the
distiller registers them once (``SSSDDistiller.terms``, a ``ModuleList``)
and asks a term what it is (:attr:`DistillTerm.head_pass`, its loss keys)
instead of relying on its position."""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.structures import SampleList
from mmengine.model import BaseModule
from torch import Tensor

from ..distill.feature_loss import feature_loss
from .frozen_detector import FrozenDetector

Maps = Sequence[Tensor]


class DistillTerm(BaseModule):
    """A teacher, the student-side ``adapter`` and the feature and logit
    losses of the term (each may be None).

    Subclasses say where the teacher's maps come from (:meth:`teach`),
    whether they also go through the student's head(s) (``head_pass``, which
    gives the teacher's logits and detection losses) and the keys of their
    losses in the distiller's loss dict.
    """

    head_pass = False
    feat_key = logit_key = ''

    def __init__(self, teacher, adapter: Optional[nn.Module],
                 feat_loss: Optional[nn.Module],
                 logit_loss: Optional[nn.Module]) -> None:
        super().__init__()
        # a BaseModule with the teacher first: mmengine's init_weights
        # reaches the teacher through the term, and the teacher draws its
        # initial weights as it did before the terms were modules
        self.set_teacher(teacher)
        self.adapter = adapter
        self.feat_loss = feat_loss
        self.logit_loss = logit_loss

    def set_teacher(self, teacher) -> None:
        raise NotImplementedError

    @property
    def with_logits(self) -> bool:
        return self.logit_loss is not None

    def teach(self, feats: Maps, batch_inputs: Tensor, samples: SampleList,
              preprocessor: nn.Module) -> Tuple[Maps, Optional[list]]:
        """The teacher's P maps (N, C_t, H_p, W_p) for the batch and, where
        it makes them itself, its per-level logits (else None)."""
        raise NotImplementedError

    def teacher_losses(self, maps: Maps, samples: SampleList
                       ) -> Dict[str, Tensor]:
        """The teacher's own training losses on its ``maps``, beside its
        detection losses, not scaled by lambda (none by default)."""
        return {}

    def losses(self, feats: Maps, maps: Maps, logits: Optional[list],
               their_logits: Optional[list], mask: Optional[Tensor],
               level_weights: str,
               regions: Optional[Maps] = None) -> Dict[str, Tensor]:
        """The term's unweighted losses: the feature loss between the
        student's P maps ``feats`` and the teacher's ``maps`` (after the
        adapter and instance norm, :func:`feature_loss`), and the logit
        loss between the head's per-level logits on both, ``mask`` the
        anchors it counts (None: all), ``regions`` the cells of each
        level the feature loss counts (P masks (N, H_p, W_p); None: all)."""
        out = {}
        if self.feat_loss is not None:
            out[self.feat_key] = feature_loss(self.feat_loss, self.adapter,
                                              feats, maps, level_weights,
                                              regions)
        if self.logit_loss is not None:
            out[self.logit_key] = self.logit_loss(
                flat(logits), flat(their_logits), weight=mask)
        return out


class LabelTeacherTerm(DistillTerm):
    """The implicit teacher (:class:`LabelEncoderTeacher`): maps from the
    student's maps and the labels. Its maps also go through the student's
    head(s), which give its logits and ``teacher.*`` losses."""

    head_pass = True
    feat_key, logit_key = 'loss_distill', 'loss_distill_logits'

    def set_teacher(self, teacher: nn.Module) -> None:
        self.teacher = teacher

    def teach(self, feats, batch_inputs, samples, preprocessor):
        return self.teacher(feats, samples), None

    def teacher_losses(self, maps, samples):
        """``teacher.loss_class``: the auxiliary cross-entropy that reads
        each object's class from the teacher's maps (the teacher's
        ``class_loss_weight``), where it has one."""
        if self.teacher.class_readout is None:
            return {}
        return {'teacher.loss_class': self.teacher.class_loss(maps, samples)}


class PretrainedTeacherTerm(DistillTerm):
    """A frozen pretrained detector (:class:`FrozenDetector`): its own FPN
    maps and dense head logits from the images. The detector is a plain
    attribute, not a submodule: it stays out of the state dict, the
    optimizer and DDP."""

    feat_key, logit_key = 'loss_pt_feat', 'loss_pt_logits'

    def set_teacher(self, detector: FrozenDetector) -> None:
        self.detector = detector

    def teach(self, feats, batch_inputs, samples, preprocessor):
        return self.detector(batch_inputs, preprocessor, self.with_logits)


def flat(logits: Sequence[Tensor]) -> Tensor:
    """Per-level (N, A * K, H, W) logits as one (N, L) tensor."""
    return torch.cat([x.flatten(1) for x in logits], dim=1)
