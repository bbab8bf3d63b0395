# Copyright (c) mmdet_sssd contributors. All rights reserved.
import copy
from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads.base_dense_head import BaseDenseHead
from mmdet.models.detectors import (BaseDetector, SingleStageDetector,
                                    TwoStageDetector)
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.logging import MessageHub
from torch import Tensor

from .frozen_detector import FrozenDetector

# Single-stage families whose `loss` is not `bbox_head.loss(feats)`.
_UNSUPPORTED_SINGLE_STAGE = ('RPN', )


@MODELS.register_module()
class SSSDDistiller(BaseDetector):
    """Label-guided self-distillation (LGD / SSSD) of any stock detector.

    The wrapped ``detector`` is an unmodified MMDetection config. In ``loss``
    mode::

        L = L_det(S) + teacher_loss_weight * L_det(T)
            + distill_coef * mean_p distill_loss(norm(adapter(S_p)), norm(T_p))

    with ``S`` the student's FPN maps, ``T = teacher(S, gt)`` the implicit
    teacher's maps (detached inside the distillation loss) and ``L_det`` the
    student's own head(s) with the same targets (RPN and RoI head for
    two-stage detectors). ``predict`` and ``tensor`` modes are the plain
    student; :mod:`tools/export_student.py` strips everything else.

    SSSD is ``distill_loss=dict(type='JSDistanceLoss')`` (the default), LGD is
    ``distill_loss=dict(type='MSELoss')``; both keep the adapter and the
    instance norm. ``distill_coef`` is set every iteration by
    :class:`AdaptiveDistillCoefHook` and scales every distillation term.

    Related methods, each one config change:

    - ``distill_loss=dict(type='SSIMDistillLoss')``: structural feature loss.
    - ``logit_distill_loss=dict(type='AdaptiveDistillLoss')``: ADL from the
      head's classification logits on the teacher maps (detached) to those
      on the student maps (``loss_distill_logits``); dense heads of
      single-stage detectors with sigmoid classifiers.
    - ``pretrained_teacher=dict(config=..., checkpoint=..., feat_loss=...,
      logit_loss=...)``: a conventional frozen teacher detector
      (:class:`FrozenDetector`), alone (``teacher=None``) or with the label
      teacher. ``feat_loss`` (JS, SSIM, MSE...) between its FPN maps and the
      student's after a 1x1 adapter to its width (``loss_pt_feat``),
      ``logit_loss`` (ADL) between their classification logits
      (``loss_pt_logits``; same anchors and classes needed).

    Args:
        detector (dict): The student, a stock single-stage
            (:class:`SingleStageDetector`) or two-stage
            (:class:`TwoStageDetector`) detector config with a multi-level
            neck.
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
            ``num_convs`` convs (ReLU between) of ``kernel_size``. None
            disables it. LGD uses 3x3 kernels; the default 1x1 costs 9x less
            (see the README's overhead table). Defaults to
            ``dict(num_convs=3, kernel_size=1)``.
        norm_feats (bool): Non-affine instance norm of both sides before the
            distillation loss. Defaults to True.
        level_weights (str): How the per-level distillation losses combine:
            ``'uniform'``, their mean over levels (SSSD's ``1/N sum_p``), or
            ``'size'``, weighted by each level's number of elements, which
            for a mean loss is LGD's one loss over the elements of all
            levels concatenated (P3 then carries most of the weight; with
            ``'uniform'`` P7 weighs about 58x more at 800x1344).
            Defaults to 'uniform'.
        teacher_loss_weight (float): Weight w_t of the teacher's detection
            losses. 0 skips the teacher's head pass. Defaults to 1.0.
        teacher_trains_head (bool): Whether the teacher's detection losses
            also train the shared head(s), as in LGD. If False the head
            weights learn from the student's maps only and the teacher pass
            skips their weight gradients (about a third of its cost).
            Defaults to True.
        distill_coef (float): Initial lambda; also the
            :class:`AdaptiveDistillCoefHook`'s ``base_coef`` unless the hook
            sets its own. Defaults to 1.0.
        distill_warmup (int): For this many iterations (epochs if
            ``by_epoch``) the student maps and logits are detached inside
            the distillation losses, so only the adapters learn from them
            while the label teacher learns to detect. Defaults to 0.
        distill_cooldown (int): For the last this many iterations (epochs
            if ``by_epoch``) the student side is detached again, as in the
            warm-up: LGD's "post non-distillation" phase (50k of 180k
            iterations in its DCN and X-101 configs). Defaults to 0.
        backbone_freeze (int): For this many iterations (epochs if
            ``by_epoch``) the student's backbone gets no gradient.
            Defaults to 0.
        by_epoch (bool): Units of ``distill_warmup`` and ``backbone_freeze``.
            Defaults to False.
        logit_distill_loss (dict, optional): Loss between the head's
            classification logits on the student and on the teacher maps.
            Defaults to None.
        pretrained_teacher (dict, optional): ``config`` (file, ``mmdet::``
            name or model dict), ``checkpoint``, and ``feat_loss`` and/or
            ``logit_loss`` (dicts or None). Defaults to None.
        check_finite (bool): Check every batch before the forward pass
            (finite boxes of positive size, labels in range) and the losses
            after it; raise
            with the iteration and the images instead of letting a NaN or
            inf reach the weights. Costs one device sync per iteration.
            Defaults to True.
        predict_with_teacher (bool): Diagnostic: ``predict`` runs the
            student's head(s) on the label teacher's maps, so ``tools/test.py``
            scores the teacher (``tools/eval_teacher.py`` sets it). Needs the
            GT in every test sample, in input-image coordinates
            (``LoadAnnotations`` before ``Resize``). Never for deployment.
            Defaults to False.
        data_preprocessor (dict, optional): Defaults to the detector's.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 detector: ConfigType,
                 teacher: OptConfigType = dict(type='LabelEncoderTeacher'),
                 distill_loss: OptConfigType = dict(type='JSDistanceLoss'),
                 adapter: OptConfigType = dict(num_convs=3, kernel_size=1),
                 norm_feats: bool = True,
                 level_weights: str = 'uniform',
                 teacher_loss_weight: float = 1.0,
                 teacher_trains_head: bool = True,
                 distill_coef: float = 1.0,
                 distill_warmup: int = 0,
                 distill_cooldown: int = 0,
                 backbone_freeze: int = 0,
                 by_epoch: bool = False,
                 logit_distill_loss: OptConfigType = None,
                 pretrained_teacher: OptConfigType = None,
                 check_finite: bool = True,
                 predict_with_teacher: bool = False,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        detector = copy.deepcopy(detector)
        # A partial override of a default (``--cfg-options
        # model.distill_loss.tau=0.5`` on a config that leaves the loss out)
        # arrives without its type: complete it with the default's.
        teacher = _typed(teacher, 'LabelEncoderTeacher')
        distill_loss = _typed(distill_loss, 'JSDistanceLoss')
        if data_preprocessor is None:
            data_preprocessor = detector.get('data_preprocessor')
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(detector)
        channels, num_levels, num_classes = self._check_student()

        # The extra modules are built without moving the global RNG, so the
        # student's init_weights (the first child's) draws what the plain
        # detector's would with the same seed: distilled and baseline runs
        # start from the same weights.
        with torch.random.fork_rng(devices=[]):
            self.teacher = None
            if teacher is not None:
                teacher = copy.deepcopy(teacher)
                for key, value in [('in_channels', channels),
                                   ('num_levels', num_levels),
                                   ('num_classes', num_classes)]:
                    given = teacher.setdefault(key, value)
                    if given != value:
                        raise ValueError(
                            f'SSSDDistiller: teacher.{key}={given} does not '
                            f'match the detector {self._name} ({key}={value}); '
                            f'remove it from the teacher config to use the '
                            f'detector\'s value')
                teacher.setdefault('detach_appearance',
                                   isinstance(self.student, TwoStageDetector))
                strides = self._prior_strides(num_levels)
                if teacher.get('type') == 'LabelEncoderTeacher' and strides:
                    teacher.setdefault('strides', strides)
                self.teacher = MODELS.build(teacher)
            if logit_distill_loss is not None:
                if self.teacher is None:
                    raise ValueError('SSSDDistiller: logit_distill_loss distils '
                                     'the label teacher\'s logits; it needs a '
                                     'teacher')
                self._dense_head()
            self.logit_distill_loss = (None if logit_distill_loss is None else
                                       MODELS.build(logit_distill_loss))
            self._build_pretrained(pretrained_teacher, channels, num_levels,
                                   num_classes)
            if self.teacher is None and self.pretrained_teacher is None:
                raise ValueError('SSSDDistiller: nothing to distil from; give a '
                                 'teacher, a pretrained_teacher or both')

            if adapter is not None and self.teacher is not None and (
                    distill_loss is not None):
                adapter = dict(adapter)
                num_convs = adapter.pop('num_convs', 3)
                k = adapter.pop('kernel_size', 1)
                if adapter:
                    raise ValueError(f'SSSDDistiller: unknown adapter options '
                                     f'{sorted(adapter)}; use num_convs and '
                                     f'kernel_size')
                self.adapter = nn.Sequential(*[
                    ConvModule(
                        channels,
                        channels,
                        k,
                        padding=k // 2,
                        act_cfg=dict(type='ReLU') if i < num_convs - 1 else None)
                    for i in range(num_convs)
                ])
            else:
                self.adapter = None
            self.distill_loss = (MODELS.build(distill_loss) if self.teacher
                                 is not None and distill_loss is not None else
                                 None)
        if level_weights not in ('uniform', 'size'):
            raise ValueError(f"SSSDDistiller: level_weights must be "
                             f"'uniform' or 'size', got {level_weights!r}")
        self.norm_feats = norm_feats
        self.level_weights = level_weights
        self.teacher_loss_weight = teacher_loss_weight
        self.teacher_trains_head = teacher_trains_head
        self.distill_coef = distill_coef
        self.distill_warmup = distill_warmup
        self.distill_cooldown = distill_cooldown
        self.backbone_freeze = backbone_freeze
        self.by_epoch = by_epoch
        self.check_finite = check_finite
        self.num_classes = num_classes
        if predict_with_teacher and self.teacher is None:
            raise ValueError('SSSDDistiller: predict_with_teacher scores the '
                             'label teacher; it needs a teacher')
        self.predict_with_teacher = predict_with_teacher

    def _build_pretrained(self, cfg: OptConfigType, channels: int,
                          num_levels: int, num_classes: int) -> None:
        self.pretrained_teacher = None
        self.pt_adapter = self.pt_feat_loss = self.pt_logit_loss = None
        if cfg is None:
            return
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
        their_channels = teacher.neck.out_channels
        their_levels = getattr(teacher.neck, 'num_outs', num_levels)
        if feat_loss is not None:
            if their_levels != num_levels:
                raise ValueError(
                    f'SSSDDistiller: the pretrained teacher has '
                    f'{their_levels} FPN levels, the student {num_levels}; '
                    f'feature distillation pairs them level by level')
            # student -> teacher width (de Rijk et al.'s f, a 1x1 conv)
            self.pt_adapter = ConvModule(channels, their_channels, 1,
                                         act_cfg=None)
            self.pt_feat_loss = MODELS.build(feat_loss)
        if logit_loss is not None:
            ours, theirs = self._dense_head(), teacher.head
            mine = (num_classes, getattr(ours, 'num_base_priors', None),
                    ours.prior_generator.strides)
            other = (theirs.num_classes,
                     getattr(theirs, 'num_base_priors', None),
                     theirs.prior_generator.strides)
            if mine != other:
                raise ValueError(
                    f'SSSDDistiller: logit distillation needs the same '
                    f'classes, priors per location and strides in student '
                    f'and teacher heads; got {mine} and {other}. Use '
                    f'feat_loss only')
            self.pt_logit_loss = MODELS.build(logit_loss)
        teacher.load()  # after the checks: they name the config's problem
        self.pretrained_teacher = teacher

    def _dense_head(self) -> nn.Module:
        """The student's dense head, if logits can be distilled from it."""
        head = getattr(self.student, 'bbox_head', None)
        if not isinstance(self.student, SingleStageDetector) or type(
                head).loss is not BaseDenseHead.loss:
            raise TypeError(
                f'SSSDDistiller: logit distillation needs a single-stage '
                f'detector whose dense head computes its loss from its '
                f'outputs (BaseDenseHead.loss); {self._name} is not one')
        if not getattr(head, 'use_sigmoid_cls', False):
            raise TypeError(
                f'SSSDDistiller: logit distillation needs a sigmoid '
                f'classifier; the head of {self._name} uses softmax')
        return head

    @property
    def _name(self) -> str:
        return type(self.student).__name__

    def _prior_strides(self, num_levels: int) -> Optional[List[tuple]]:
        """The strides of the priors the head(s) put on each FPN level (the
        RPN's for two-stage detectors), where the teacher paints the boxes;
        None if the head has no prior generator."""
        student = self.student
        head = (student.rpn_head if isinstance(student, TwoStageDetector)
                else student.bbox_head)
        strides = getattr(getattr(head, 'prior_generator', None), 'strides',
                          None)
        if strides is None or len(strides) != num_levels:
            return None
        return [tuple(float(v) for v in _as_pair(s)) for s in strides]

    def _check_student(self) -> Tuple[int, int, int]:
        """Fail at build time on detectors the distiller cannot handle.

        Returns:
            tuple[int]: FPN channels, number of levels, number of classes.
        """
        student, name = self.student, self._name
        if isinstance(student, SingleStageDetector):
            if name in _UNSUPPORTED_SINGLE_STAGE:
                raise TypeError(f'SSSDDistiller: {name} is a proposal network '
                                f'and has no class labels to distill')
            head = student.bbox_head
        elif isinstance(student, TwoStageDetector):
            if not (student.with_rpn and student.with_roi_head):
                raise TypeError(f'SSSDDistiller: two-stage detector {name} '
                                f'needs both rpn_head and roi_head')
            head = student.roi_head.bbox_head
            head = head[0] if isinstance(head, nn.ModuleList) else head
        else:
            raise TypeError(
                f'SSSDDistiller supports single-stage (SingleStageDetector) '
                f'and two-stage (TwoStageDetector) detectors; {name} is '
                f'neither. DETR-like, semi-supervised and other detector '
                f'families are not supported yet')
        neck = getattr(student, 'neck', None)
        channels = getattr(neck, 'out_channels', None)
        num_levels = getattr(neck, 'num_outs', None)
        if num_levels is None and isinstance(
                getattr(neck, 'in_channels', None), (list, tuple)):
            num_levels = len(neck.in_channels)
        if not isinstance(channels, int) or not num_levels or num_levels < 2:
            raise TypeError(
                f'SSSDDistiller: {name} has no multi-level neck with a single '
                f'output width (neck: {type(neck).__name__}); the teacher '
                f'needs one map per level with the same channels, as from '
                f'FPN/PAFPN')
        num_classes = getattr(head, 'num_classes', None)
        if not isinstance(num_classes, int):
            raise TypeError(f'SSSDDistiller: cannot read num_classes from '
                            f'the head of {name}')
        return channels, num_levels, num_classes

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

    def _in_phase(self, length: int) -> bool:
        """Whether the training is within its first ``length`` iters/epochs."""
        if length <= 0:
            return False
        hub = MessageHub.get_current_instance()
        step = hub.get_info('epoch' if self.by_epoch else 'iter', 0)
        return step < length

    def _in_last(self, length: int) -> bool:
        """Whether the training is within its last ``length`` iters/epochs."""
        if length <= 0:
            return False
        hub = MessageHub.get_current_instance()
        unit = 'epoch' if self.by_epoch else 'iter'
        total = hub.get_info(f'max_{unit}s')
        return total is not None and hub.get_info(unit, 0) >= total - length

    # The plain student: used for `predict`, `tensor` mode and export.
    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        return self.student.extract_feat(batch_inputs)

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        if self.predict_with_teacher:
            return self._predict_teacher(batch_inputs, batch_data_samples,
                                         rescale)
        return self.student.predict(batch_inputs, batch_data_samples,
                                    rescale)

    def _predict_teacher(self, batch_inputs: Tensor,
                         batch_data_samples: SampleList,
                         rescale: bool) -> SampleList:
        """The student's head(s) on the label teacher's maps."""
        for sample in batch_data_samples:
            if 'gt_instances' not in sample:
                raise ValueError(
                    f'SSSDDistiller: predict_with_teacher needs the GT of '
                    f'each test image; {sample.get("img_path", "an image")} '
                    f'has none. Add LoadAnnotations to the test pipeline, '
                    f'before Resize')
        student = self.student
        feats = self.teacher(student.extract_feat(batch_inputs),
                             batch_data_samples)
        if isinstance(student, SingleStageDetector):
            results = student.bbox_head.predict(
                feats, batch_data_samples, rescale=rescale)
        else:
            proposals = student.rpn_head.predict(
                feats, batch_data_samples, rescale=False)
            results = student.roi_head.predict(
                feats, proposals, batch_data_samples, rescale=rescale)
        return student.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: OptConfigType = None):
        return self.student._forward(batch_inputs, batch_data_samples)

    def _student_feats(self, batch_inputs: Tensor) -> Tuple[Tensor]:
        """FPN maps; the backbone runs without autograd while frozen."""
        student = self.student
        if not self._in_phase(self.backbone_freeze):
            return student.extract_feat(batch_inputs)
        with torch.no_grad():
            x = student.backbone(batch_inputs)
        return student.neck(x) if student.with_neck else x

    def head_loss(self, feats: Tuple[Tensor],
                  batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """The student's detection losses on given FPN maps, exactly as its
        own ``loss`` computes them after ``extract_feat``."""
        student = self.student
        if isinstance(student, SingleStageDetector):
            return student.bbox_head.loss(feats, batch_data_samples)
        # TwoStageDetector.loss, starting from the maps.
        proposal_cfg = student.train_cfg.get('rpn_proposal',
                                             student.test_cfg.rpn)
        rpn_data_samples = copy.deepcopy(batch_data_samples)
        for data_sample in rpn_data_samples:
            data_sample.gt_instances.labels = torch.zeros_like(
                data_sample.gt_instances.labels)
        rpn_losses, rpn_results = student.rpn_head.loss_and_predict(
            feats, rpn_data_samples, proposal_cfg=proposal_cfg)
        losses = {(f'rpn_{k}' if 'loss' in k and 'rpn' not in k else k): v
                  for k, v in rpn_losses.items()}
        losses.update(
            student.roi_head.loss(feats, rpn_results, batch_data_samples))
        return losses

    def _heads(self) -> List[nn.Module]:
        student = self.student
        if isinstance(student, SingleStageDetector):
            return [student.bbox_head]
        return [student.rpn_head, student.roi_head]

    def _normalize(self, feat: Tensor) -> Tensor:
        """Non-affine instance norm; unlike ``F.instance_norm`` it accepts
        1x1 maps (P7 of small images), which become 0."""
        if not self.norm_feats:
            return feat
        var, mean = torch.var_mean(feat, dim=(2, 3), keepdim=True,
                                   correction=0)
        return (feat - mean) * torch.rsqrt(var + 1e-5)

    def _dense_loss(self, feats: Tuple[Tensor],
                    batch_data_samples: SampleList
                    ) -> Tuple[Dict[str, Tensor], List[Tensor]]:
        """``BaseDenseHead.loss`` in two steps, to keep the classification
        logits (one (N, A * K, H, W) tensor per level)."""
        head = self.student.bbox_head
        outs = head(feats)
        gt, gt_ignore, metas = unpack_gt_instances(batch_data_samples)
        return head.loss_by_feat(*outs, gt, metas, gt_ignore), outs[0]

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> Dict[str, Tensor]:
        """Student, teacher and distillation losses.

        Returns:
            dict[str, Tensor]: The student's keys unchanged (``loss_cls``...),
            the label teacher's as ``teacher.<key>``, and the distillation
            terms ``loss_distill``, ``loss_distill_logits``, ``loss_pt_feat``
            and ``loss_pt_logits`` of the parts in use.
        """
        if self.check_finite:
            self._check_targets(batch_data_samples)
        feats = self._student_feats(batch_inputs)
        pt_logit = self.pt_logit_loss is not None
        with_logits = self.logit_distill_loss is not None or pt_logit
        if with_logits:
            losses, logits = self._dense_loss(feats, batch_data_samples)
        else:
            losses = self.head_loss(feats, batch_data_samples)
        warmup = self._in_phase(self.distill_warmup) or self._in_last(
            self.distill_cooldown)
        # the student side of the distillation losses
        student_feats = [f.detach() if warmup else f for f in feats]
        if with_logits and warmup:
            logits = [x.detach() for x in logits]
        coef = self.distill_coef

        if self.teacher is not None:
            teacher_feats = self.teacher(feats, batch_data_samples)
            teacher_losses, teacher_logits = {}, None
            with _no_weight_grad(self._heads(), not self.teacher_trains_head):
                if self.logit_distill_loss is not None:
                    teacher_losses, teacher_logits = self._dense_loss(
                        teacher_feats, batch_data_samples)
                elif self.teacher_loss_weight > 0:
                    teacher_losses = self.head_loss(teacher_feats,
                                                    batch_data_samples)
            if getattr(self.teacher, 'class_readout', None) is not None:
                losses['teacher.loss_class'] = self.teacher.class_loss(
                    teacher_feats, batch_data_samples)
            if self.teacher_loss_weight > 0:
                for key, value in teacher_losses.items():
                    if 'loss' in key:
                        value = _scale(value, self.teacher_loss_weight)
                    losses[f'teacher.{key}'] = value
            if self.distill_loss is not None:
                losses['loss_distill'] = coef * self._feature_loss(
                    self.distill_loss, self.adapter, student_feats,
                    teacher_feats)
            if teacher_logits is not None:
                losses['loss_distill_logits'] = coef * self.logit_distill_loss(
                    _flat(logits), _flat(teacher_logits))

        if self.pretrained_teacher is not None:
            pt_feats, pt_logits = self.pretrained_teacher(
                batch_inputs, self.data_preprocessor, pt_logit)
            if self.pt_feat_loss is not None:
                losses['loss_pt_feat'] = coef * self._feature_loss(
                    self.pt_feat_loss, self.pt_adapter, student_feats,
                    pt_feats)
            if pt_logit:
                losses['loss_pt_logits'] = coef * self.pt_logit_loss(
                    _flat(logits), _flat(pt_logits))
        if self.check_finite:
            self._check_losses(losses, feats, batch_data_samples)
        return losses

    def _feature_loss(self, loss: nn.Module, adapter: Optional[nn.Module],
                      student_feats: List[Tensor],
                      teacher_feats: Tuple[Tensor]) -> Tensor:
        """``loss(norm(adapter(S_p)), norm(sg(T_p)))`` combined over the
        levels p by ``level_weights``."""
        values = []
        for student_map, teacher_map in zip(student_feats, teacher_feats):
            if adapter is not None:
                student_map = adapter(student_map)
            values.append(
                loss(
                    self._normalize(student_map),
                    self._normalize(teacher_map.detach())))
        values = torch.stack(values)
        if self.level_weights == 'uniform':
            return values.mean()
        sizes = values.new_tensor([f.numel() for f in teacher_feats])
        return (values * sizes).sum() / sizes.sum()

    @staticmethod
    def _where(batch_data_samples: SampleList) -> str:
        hub = MessageHub.get_current_instance()
        paths = [s.metainfo.get('img_path', s.metainfo.get('img_id'))
                 for s in batch_data_samples]
        return f'at iteration {hub.get_info("iter", 0) + 1}, images {paths}'

    def _check_targets(self, batch_data_samples: SampleList) -> None:
        """Non-finite boxes, boxes without area (the box coders take their
        log) and out-of-range labels would corrupt the weights."""
        for sample in batch_data_samples:
            gt = sample.gt_instances
            boxes = getattr(gt.bboxes, 'tensor', gt.bboxes)
            labels = gt.labels
            problem = None
            if not bool(torch.isfinite(boxes).all()):
                problem = f'non-finite boxes {boxes.tolist()}'
            elif bool(((boxes[:, 2:] - boxes[:, :2]) <= 0).any()):
                empty = ((boxes[:, 2:] - boxes[:, :2]) <= 0).any(1)
                problem = (f'boxes of zero or negative width/height '
                           f'{boxes[empty].tolist()}')
            elif bool(((labels < 0) | (labels >= self.num_classes)).any()):
                problem = (f'labels {labels.tolist()} outside '
                           f'[0, {self.num_classes})')
            if problem:
                raise ValueError(
                    f'SSSDDistiller: {problem} in '
                    f'{sample.metainfo.get("img_path")} '
                    f'{self._where(batch_data_samples)}. Fix or remove these '
                    f'annotations (mmdet\'s CocoDataset skips boxes under 1 '
                    f'pixel; TrainDataCheckHook lists the bad ones before '
                    f'training)')

    def _check_losses(self, losses: Dict[str, Tensor], feats: Tuple[Tensor],
                      batch_data_samples: SampleList) -> None:
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
            f'SSSDDistiller: non-finite losses {bad} '
            f'{self._where(batch_data_samples)}; the weights were not '
            f'updated with them. The student\'s FPN maps are {state}. '
            f'Lower the learning rate, clip gradients '
            f'(optim_wrapper.clip_grad) or check these images, then resume '
            f'from the last checkpoint')


def _as_pair(stride) -> tuple:
    return (stride, stride) if isinstance(stride, (int, float)) else stride


def _typed(cfg: OptConfigType, default_type: str) -> OptConfigType:
    """``cfg`` with ``type=default_type`` if it names no type."""
    if cfg is None or 'type' in cfg:
        return cfg
    return dict(type=default_type, **cfg)


@contextmanager
def _no_weight_grad(modules: List[nn.Module], enabled: bool = True):
    """Runs the modules without recording gradients for their parameters
    (inputs still get theirs)."""
    params = [p for m in modules for p in m.parameters()
              if enabled and p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _flat(logits: List[Tensor]) -> Tensor:
    """Per-level (N, A * K, H, W) logits as one (N, L) tensor."""
    return torch.cat([x.flatten(1) for x in logits], dim=1)


def _scale(value: Union[Tensor, List[Tensor]],
           weight: float) -> Union[Tensor, List[Tensor]]:
    """Scales a loss entry, which some heads return as a list of tensors."""
    if isinstance(value, (list, tuple)):
        return [v * weight for v in value]
    return value * weight
