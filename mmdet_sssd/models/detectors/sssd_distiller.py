# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
import math
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.model import ModuleList
from torch import Tensor

from ..distill.checks import check_gt_present, check_losses, check_targets
from ..distill.config import build_optional, typed
from ..distill.feature_loss import build_adapter
from ..distill.levels import neck_levels
from ..distill.phases import (DistillPhases, Phase, check_head_setting,
                              teacher_trains_head)
from ..distill.regions import box_cell_masks, check_region
from ..distill.runners import build_runner
from ..teachers.builders import (build_label_teacher, build_pretrained,
                                 check_terms, prefixed)
from ..teachers.terms import DistillTerm, LabelTeacherTerm


@MODELS.register_module()
class SSSDDistiller(BaseDetector):
    """Label-guided self-distillation (LGD / SSSD) of any stock detector.

    The wrapped ``detector`` is an unmodified MMDetection config. In ``loss``
    mode::

        L = L_det(S) + L_det(T)
            + distill_coef * mean_p distill_loss(norm(adapter(S_p)), norm(T_p))

    with ``S`` the student's FPN maps, ``T = teacher(S, gt)`` the implicit
    teacher's maps (detached inside the distillation loss) and ``L_det`` the
    student's own head(s) with the same targets, run by the family's head
    runner (``head_runner``, :mod:`mmdet_sssd.models.distill.runners`).
    Each teacher (the label teacher, a ``pretrained_teacher``) and its
    losses form one term (:mod:`mmdet_sssd.models.teachers.terms`) in
    ``terms``; the distiller loops over them. Both sides are instance-
    normalised (non-affine) before the feature loss. ``predict`` and
    ``tensor`` modes are the plain student;
    ``tools/model_converters/export_student.py`` strips everything else.

    SSSD is ``distill_loss=dict(type='JSDistanceLoss')`` (the default), LGD
    is ``distill_loss=dict(type='MSELoss')``. :class:`AdaptiveDistillCoefHook`
    sets lambda (``distill_coef``) and the phase (warm-up, cool-down,
    backbone freeze: :mod:`...distill.phases`) every iteration.
    Related methods, each one config change: ``distill_loss=dict(type=
    'SSIMDistillLoss')``; ``logit_distill_loss=dict(type=
    'AdaptiveDistillLoss')`` (ADL from the head's logits on the teacher
    maps, detached, to those on the student maps; dense sigmoid heads, or
    with ``use_sigmoid=False`` a two-stage detector's RoI head, its class
    scores for the student's sampled RoIs);
    ``pretrained_teacher=dict(config=..., checkpoint=..., feat_loss=...,
    logit_loss=...)``, a frozen teacher detector (``loss_pt_feat`` after a
    1x1 adapter to its width, ``loss_pt_logits``), alone (``teacher=None``)
    or with the label teacher.

    Args:
        detector (dict): The student, a stock single-stage
            (:class:`SingleStageDetector`) or two-stage
            (:class:`TwoStageDetector`) detector config whose neck returns
            several maps of one width (read from a dry run at build time).
        teacher (dict, optional): The implicit teacher. None leaves it out
            (with a ``pretrained_teacher``). ``in_channels``,
            ``num_levels`` and ``num_classes`` are taken from the detector
            when left out (and checked when given); ``detach_appearance``
            defaults to True for two-stage detectors, as in LGD. Without a
            ``type``, a ``LabelEncoderTeacher`` with these options.
        distill_loss (dict, optional): Feature loss between one level's
            student and teacher maps (N, C, H, W); None leaves it out (e.g.
            with ``logit_distill_loss`` alone). Defaults to
            ``JSDistanceLoss``; options without a ``type`` (e.g.
            ``--cfg-options model.distill_loss.tau=0.5``) are its options.
        adapter (dict, optional): Student-side adapter shared across levels:
            ``num_convs`` convs (ReLU between) of ``kernel_size`` (LGD: 3).
            None disables it. Defaults to ``dict(num_convs=3,
            kernel_size=1)``.
        level_weights (str): ``'uniform'``: the mean of the levels' losses
            (SSSD's ``1/N sum_p``); ``'size'``: weighted by their numbers of
            elements, LGD's one loss over all levels (P3 weighs most).
            Defaults to 'uniform'.
        teacher_trains_head (bool | str): Whether the teacher's detection
            losses also train the shared head(s), as in LGD; ``'warmup'``:
            only in the distillation warm-up (measured in
            docs/user_guides/teacher.md). Defaults to True.
        distill_coef (float): Initial lambda; also the
            :class:`AdaptiveDistillCoefHook`'s ``base_coef`` unless the hook
            sets its own. Defaults to 1.0.
        distill_warmup (int): First iterations (epochs if ``by_epoch``)
            with the student side detached in the distillation losses (only
            the adapters learn from them; LGD: 30k of 180k). Defaults to
            0.
        backbone_freeze (int): First iterations (epochs) without gradients
            to the student's backbone. Defaults to 0.
        by_epoch (bool): Units of the phases, which need the
            :class:`AdaptiveDistillCoefHook`. Defaults to False.
        distill_ramp (int): Iterations (epochs if ``by_epoch``) after the
            warm-up over which lambda rises linearly to the hook's value,
            ``1 / distill_ramp`` of it in the first, so that the pull does
            not reach a student at full strength at once (measured in
            docs/benchmarks/digits). Defaults to 0: at once.
        distill_interval (int): The teachers, their head passes and the
            distillation losses run in one training iteration of every
            ``distill_interval`` (the runner's iteration a multiple of it);
            in the others the student trains alone, at a plain student
            step's cost (a cost lever, measured in
            docs/benchmarks/digits). Needs the
            :class:`AdaptiveDistillCoefHook`; under DDP,
            ``find_unused_parameters=True`` (the hook checks). Defaults to
            1: every iteration.
        distill_batch_ratio (float): The share of each batch's images
            (the first ``ceil(ratio x N)``, at least one) that the teachers,
            their head passes and the distillation losses see; the student's
            detection loss sees them all. A cost lever (measured in
            docs/benchmarks/digits). Defaults to 1.0.
        logit_distill_loss (dict, optional): Loss between the head's
            classification logits on the student and on the teacher maps:
            a dense head's sigmoid logits at every anchor, or a two-stage
            detector's RoI head's (R, K + 1) softmax scores for the RoIs
            the student's pass sampled (a ``StandardRoIHead``; needs
            ``distill_batch_ratio`` 1 and ``logit_grad_to`` 'all'; checked
            at build time). Defaults to None.
        pretrained_teacher (dict, optional): ``config`` (file, ``mmdet::``
            name or model dict), ``checkpoint``, and ``feat_loss`` and/or
            ``logit_loss`` (dicts or None). Defaults to None.
        distill_region (str): Where the feature losses act: ``'all'`` the
            whole maps (LGD, SSSD); ``'boxes'`` only the cells the
            ground-truth boxes cover on each level (the mean over those
            cells, as fine-grained feature imitation distils object
            regions; :mod:`...distill.regions`). ``'boxes'`` needs a loss
            with a value per location: ``JSDistanceLoss(axis='channel')``
            or ``MSELoss`` (checked at build time). Defaults to 'all'.
        mask_ignored_anchors (bool): The logit losses skip the anchors the
            student head's assigner ignores (label weight 0: RetinaNet's
            IoU 0.4-0.5 band), as ADL's reference code does. Needs a logit
            loss and a head trained as ``AnchorHead`` trains it (RetinaNet;
            not FreeAnchor or a sampled head; checked at build time).
            Defaults to False.
        logit_grad_to (str): Where the logit losses' gradient reaches the
            student: ``'all'`` (its head's weights and its maps, as ADL
            trains); ``'head'`` (the head's weights only: the logits are
            recomputed from detached maps); ``'maps'`` (the maps, hence
            the neck and backbone, only: the logits are recomputed with the
            head's weights held). The two restricted ones split the full
            gradient exactly in two and cost one more head pass; a
            diagnostic of which path a logit term's effect takes. Needs a
            logit loss. Defaults to 'all'.
        data_preprocessor (dict, optional): Defaults to the detector's.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 detector: ConfigType,
                 teacher: OptConfigType = dict(type='LabelEncoderTeacher'),
                 distill_loss: OptConfigType = dict(type='JSDistanceLoss'),
                 adapter: OptConfigType = dict(num_convs=3, kernel_size=1),
                 level_weights: str = 'uniform',
                 teacher_trains_head: Union[bool, str] = True,
                 distill_coef: float = 1.0,
                 distill_warmup: int = 0,
                 backbone_freeze: int = 0,
                 by_epoch: bool = False,
                 distill_interval: int = 1,
                 distill_ramp: int = 0,
                 distill_batch_ratio: float = 1.0,
                 logit_distill_loss: OptConfigType = None,
                 pretrained_teacher: OptConfigType = None,
                 mask_ignored_anchors: bool = False,
                 distill_region: str = 'all',
                 logit_grad_to: str = 'all',
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        detector = copy.deepcopy(detector)
        check_head_setting(teacher_trains_head, distill_warmup)
        if isinstance(distill_interval, bool) or not isinstance(
                distill_interval, int) or distill_interval < 1:
            raise ValueError(f'SSSDDistiller: distill_interval must be an '
                             f'int >= 1 (1: distil every iteration), got '
                             f'{distill_interval!r}')
        if isinstance(distill_ramp, bool) or not isinstance(
                distill_ramp, int) or distill_ramp < 0:
            raise ValueError(f'SSSDDistiller: distill_ramp must be an int >= '
                             f'0 (0: lambda at once), got {distill_ramp!r}')
        if isinstance(distill_batch_ratio, bool) or not isinstance(
                distill_batch_ratio, (int, float)) or not \
                0 < distill_batch_ratio <= 1:
            raise ValueError(f'SSSDDistiller: distill_batch_ratio must be a '
                             f'number in (0, 1] (1: every image), got '
                             f'{distill_batch_ratio!r}')
        if level_weights not in ('uniform', 'size'):
            raise ValueError(f"SSSDDistiller: level_weights must be "
                             f"'uniform' or 'size', got {level_weights!r}")
        super().__init__(
            data_preprocessor=data_preprocessor
            or detector.get('data_preprocessor'), init_cfg=init_cfg)
        self.student = MODELS.build(detector)
        self.head_runner = build_runner(self.student)
        name = type(self.student).__name__
        self.num_classes = self.head_runner.num_classes
        if not isinstance(self.num_classes, int):
            raise TypeError(f'SSSDDistiller: cannot read num_classes from '
                            f'the head of {name}')
        if teacher is None and logit_distill_loss is not None:
            raise ValueError('SSSDDistiller: logit_distill_loss distils the '
                             'label teacher\'s logits; it needs a teacher')
        # Built without moving the global RNG: the student draws the plain
        # detector's initial weights with the same seed.
        with torch.random.fork_rng(devices=[]):
            channels, levels = neck_levels(self.student, name)
            terms = []
            label_teacher = build_label_teacher(
                typed(teacher, 'LabelEncoderTeacher'), self.head_runner,
                channels, levels, name)
            if label_teacher is not None:
                distill_loss = typed(distill_loss, 'JSDistanceLoss')
                terms.append(LabelTeacherTerm(
                    label_teacher,
                    build_adapter(
                        adapter if distill_loss is not None else None,
                        channels, channels),
                    build_optional(distill_loss),
                    build_optional(logit_distill_loss)))
            pretrained = build_pretrained(pretrained_teacher,
                                          self.head_runner, channels, levels,
                                          name)
            terms += [pretrained] if pretrained else []
        check_terms(terms, self.head_runner, name, mask_ignored_anchors,
                    logit_grad_to)
        if distill_batch_ratio < 1 and self.head_runner.two_stage and any(
                t.with_logits for t in terms):
            raise ValueError(
                f'SSSDDistiller: distill_batch_ratio < 1 splits the batch the '
                f'RoI head\'s logit loss pairs RoI by RoI; with a two-stage '
                f'{name} and logit_distill_loss keep it 1')
        check_region(distill_region,
                     [t.feat_loss for t in terms if t.feat_loss is not None])
        self.distill_region = distill_region
        self.region_strides = self.head_runner.prior_strides(levels)
        #: the teachers and their losses, one term each
        self.terms = ModuleList(terms)  # mmengine's: init_weights recurses
        self.phases = DistillPhases(distill_warmup, backbone_freeze,
                                    by_epoch, distill_interval, distill_ramp)
        #: set every iteration by AdaptiveDistillCoefHook
        self.phase: Optional[Phase] = None
        self.level_weights = level_weights
        self.distill_batch_ratio = distill_batch_ratio
        self.teacher_trains_head = teacher_trains_head
        self.distill_coef = distill_coef
        self.mask_ignored_anchors = mask_ignored_anchors
        self.logit_grad_to = logit_grad_to
        self._register_load_state_dict_pre_hook(self._rename_old_keys)

    def _rename_old_keys(self, state_dict: dict, prefix: str, *args) -> None:
        """Checkpoints written before the terms were modules (0.1.0.dev)
        kept ``teacher.*``, ``adapter.*`` and ``pt_adapter.*``."""
        label = self.label_term
        where = {'teacher.': label and list(self.terms).index(label),
                 'adapter.': label and list(self.terms).index(label),
                 'pt_adapter.': len(self.terms) - 1}
        for key in [k for k in state_dict if k.startswith(prefix)]:
            for old, index in where.items():
                if key.startswith(prefix + old) and index is not None:
                    new = key.replace(prefix + old, f'{prefix}terms.{index}.'
                                      f'{old.replace("pt_", "")}', 1)
                    state_dict[new] = state_dict.pop(key)
                    break

    @property
    def label_term(self) -> Optional[LabelTeacherTerm]:
        """The label teacher's term, if there is one."""
        return next((t for t in self.terms
                     if isinstance(t, LabelTeacherTerm)), None)

    @property
    def teacher(self) -> Optional[nn.Module]:
        """The label teacher (:class:`LabelEncoderTeacher`), or None."""
        term = self.label_term
        return term and term.teacher

    @property
    def pretrained_teacher(self):
        """The frozen pretrained teacher (:class:`FrozenDetector`), or
        None."""
        return next((t.detector for t in self.terms
                     if hasattr(t, 'detector')), None)

    def __getattr__(self, name: str):
        """Let hooks written for the student (``model.bbox_head``,
        ``model.set_epoch``...) reach it through the distiller."""
        try:
            return super().__getattr__(name)
        except AttributeError:
            student = super().__getattr__('student')
            if hasattr(student, name):
                return getattr(student, name)
            raise

    # The plain student: used for `predict`, `tensor` mode and export.
    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        return self.student.extract_feat(batch_inputs)

    #: Diagnostic, set by a tool, not a config: ``predict`` runs the head(s)
    #: on the label teacher's maps (needs the GT in every test sample).
    predict_with_teacher = False

    def predict(self, batch_inputs: Tensor, batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        if not self.predict_with_teacher:
            return self.student.predict(batch_inputs, batch_data_samples,
                                        rescale)
        return self.predict_pair(batch_inputs, batch_data_samples, rescale,
                                 with_student=False)[1]

    #: Diagnostic, set by a tool: what ``predict_pair`` gives as the label
    #: teacher's predictions, for a dense single-stage head: None, its own
    #: (the head on its maps); ``'scores'``, its classification scores with
    #: the student's boxes (box regression, and any score factor, from the
    #: student's maps); ``'boxes'``, the student's scores with its boxes.
    teacher_swap = None

    def predict_pair(self, batch_inputs: Tensor,
                     batch_data_samples: SampleList, rescale: bool = True,
                     with_student: bool = True
                     ) -> Tuple[Optional[SampleList], SampleList]:
        """Diagnostic: the student's predictions (None without
        ``with_student``) and the label teacher's, i.e. the student's
        head(s) on the teacher maps built from each sample's GT, from one
        pass of the backbone and neck."""
        check_gt_present(batch_data_samples)
        feats = self.extract_feat(batch_inputs)
        # predictions are written into the samples: one copy each
        theirs = copy.deepcopy(batch_data_samples) if with_student else \
            batch_data_samples
        ours = self.head_runner.predict(feats, batch_data_samples, rescale) \
            if with_student else None
        maps = self.teacher(feats, theirs)
        if self.teacher_swap is None:
            return ours, self.head_runner.predict(maps, theirs, rescale)
        return ours, self._predict_swapped(feats, maps, theirs, rescale)

    def check_teacher_swap(self) -> None:
        """Raises TypeError unless ``teacher_swap`` can mix this student's
        head outputs: it needs a dense single-stage head (one whose loss
        is ``BaseDenseHead.loss``)."""
        if not getattr(self.head_runner, 'two_step', False):
            raise TypeError(f'SSSDDistiller: teacher_swap needs a dense '
                            f'single-stage head (one whose loss is '
                            f'BaseDenseHead.loss); the student is a '
                            f'{type(self.student).__name__}')

    def _predict_swapped(self, feats: Tuple[Tensor], maps: Tuple[Tensor],
                         samples: SampleList, rescale: bool) -> SampleList:
        """``teacher_swap``: one head output (the classification scores,
        ``outs[0]``) from one set of maps, the rest (boxes, score factors)
        from the other."""
        if self.teacher_swap not in ('scores', 'boxes'):
            raise ValueError(f'SSSDDistiller: teacher_swap is None, '
                             f'\'scores\' or \'boxes\', not '
                             f'{self.teacher_swap!r}')
        self.check_teacher_swap()
        head = self.head_runner.heads[0]
        students, teachers = head(feats), head(maps)
        scores, boxes = (teachers, students) if \
            self.teacher_swap == 'scores' else (students, teachers)
        results = head.predict_by_feat(
            scores[0], *boxes[1:],
            batch_img_metas=[s.metainfo for s in samples], rescale=rescale)
        return self.student.add_pred_to_datasample(samples, results)

    def _forward(self, batch_inputs: Tensor,
                 batch_data_samples: OptConfigType = None):
        return self.student._forward(batch_inputs, batch_data_samples)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Student, teacher and distillation losses: the student's keys
        unchanged, the label teacher's as ``teacher.<key>``, and
        ``loss_distill``, ``loss_distill_logits``, ``loss_pt_feat`` and
        ``loss_pt_logits`` of the parts in use."""
        samples = batch_data_samples
        phase = self.phases.current(self.phase)
        check_targets(samples, self.num_classes)
        if phase.freeze_backbone:
            with torch.no_grad():
                feats = self.student.backbone(batch_inputs)
            feats = self.student.neck(feats) if self.student.with_neck \
                else feats
        else:
            feats = self.student.extract_feat(batch_inputs)
        if not phase.distill:  # distill_interval: the student alone
            losses = self.head_runner.loss(feats, samples)
            check_losses(losses, feats, samples)
            return losses
        terms: List[DistillTerm] = list(self.terms)
        # distill_batch_ratio: the teachers see the first images only
        num = max(1, math.ceil(self.distill_batch_ratio * len(samples) -
                               1e-9))  # 0.3 x 10 is 3, not 4
        part = num < len(samples)
        t_feats = [f[:num] for f in feats] if part else feats
        t_samples = samples[:num]
        outs = [t.teach(t_feats, batch_inputs[:num], t_samples,
                        self.data_preprocessor) for t in terms]
        # the student's maps, then the teacher maps the head(s) must see
        passes = [i for i, t in enumerate(terms) if t.head_pass]
        head_grads = [teacher_trains_head(self.teacher_trains_head, phase)
                      ] * len(passes)
        with_logits = any(t.with_logits for t in terms)
        teacher_maps = [outs[i][0] for i in passes]
        if part:  # two batches: one head run each
            results = self.head_runner.run(
                [feats], samples, [True], with_logits,
                self.mask_ignored_anchors) + self.head_runner.run(
                    teacher_maps, t_samples, head_grads, with_logits)
        else:
            results = self.head_runner.run(
                [feats] + teacher_maps, samples, [True] + head_grads,
                with_logits, self.mask_ignored_anchors)
        losses, logits, mask = results[0]
        if part:
            logits = logits and [x[:num] for x in logits]
            mask = mask if mask is None else mask[:num]
        for i, (teacher_losses, teacher_logits, _) in zip(passes,
                                                          results[1:]):
            outs[i] = (outs[i][0], teacher_logits)
            losses.update(prefixed(teacher_losses))
        for term, (maps, _) in zip(terms, outs):
            losses.update(term.teacher_losses(maps, t_samples))
        # in the warm-up the logits are detached below: no pass to spare
        if logits and self.logit_grad_to != 'all' and \
                not phase.detach_student:
            logits = self.head_runner.logits(
                t_feats if self.logit_grad_to == 'maps' else
                [f.detach() for f in t_feats],
                weight_grad=self.logit_grad_to == 'head')
        if phase.detach_student:  # only the adapters learn from the terms
            t_feats = [f.detach() for f in t_feats]
            logits = logits and [x.detach() for x in logits]
        regions = box_cell_masks(t_samples, t_feats, self.region_strides) \
            if self.distill_region == 'boxes' else None
        for term, (maps, their_logits) in zip(terms, outs):
            for key, value in term.losses(t_feats, maps, logits,
                                          their_logits, mask,
                                          self.level_weights,
                                          regions).items():
                losses[key] = self.distill_coef * value
        check_losses(losses, feats, samples)
        return losses
