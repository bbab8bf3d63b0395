# Copyright (c) mmdet_sssd contributors. All rights reserved.
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from .box_grid import (box_mean_pool, boxes_to_cells, infer_strides,
                       paint_box_geometry, paint_box_positions, paint_boxes,
                       pair_stride)
from .label_descriptors import gather_objects
from .presets import resolve_preset
from .relation import attend_within_images
from .spatial_transformer import SpatialTransformer, object_mlp


@MODELS.register_module()
class LabelEncoderTeacher(BaseModule):
    """The implicit label-guided teacher of LGD, used by SSSD.

    From the ground-truth boxes and labels and the student's own FPN maps it
    builds one teacher map per level, of the same shape as the student's:

    1. label descriptors ``[x1/W, y1/H, x2/W, y2/H]`` (in [-1, 1]) and the
       one-hot class, W, H the padded batch input size;
    2. a PointNet-like set encoder: per-object MLP ``4+K -> 64 -> 128 ->
       1024``, a per-image max-pool, ``concat(64, 1024) -> C``
       (``preset='lgd'``: with LGD's two spatial transformers, on the
       descriptor and on the 64-d features, and LayerNorm + ReLU after the
       projection);
    3. appearance: ``Conv3x3-GN(1)-ReLU`` on each student level, averaged in
       each object's box (``preset='lite'``: then a Linear to C);
    4. relation: multi-head attention, query = appearance, key = value =
       label embedding, objects attend only within their image;
    5. mapper: Linear (a separate one for the context with
       ``preset='lgd'``), each object's vector painted on its box (overlaps
       summed, background 0), optionally with 2 channels of the cell's
       position inside the box, 4 of the box's offset and log-sides in
       strides, and K of the painted one-hot class,
       ``Conv3x3 (+ context) - ReLU``, then
       ``[Conv3x3-GN(1)-ReLU] x num_refine_convs, Conv3x3-GN(1)``.

    A box covers the cells of each level whose stride-grid span overlaps it
    (:func:`boxes_to_cells`), at least one; the strides are the head's
    (the distiller passes them) or inferred from the map sizes.

    The architecture comes from ``preset`` (:mod:`.presets`: ``'lite'``,
    this plugin's cheaper teacher, or ``'lgd'``, LGD's module for module);
    ``preset_overrides`` changes single rows of it.

    Args:
        in_channels (int): FPN channels C. Defaults to 256.
        num_levels (int): Number of FPN levels P. Defaults to 5.
        num_classes (int): Number of classes K. Defaults to 80.
        preset (str): ``'lite'`` or ``'lgd'`` (256-wide convs with bias,
            spatial transformers, non-affine norms). Defaults to 'lite'.
        preset_overrides (dict, optional): Rows of the preset table to
            change, e.g. ``dict(relation_residual=True)`` (the ablations of
            docs/lgd_fidelity.md). Defaults to None.
        strides (Sequence, optional): Stride of each level (int or
            ``(sx, sy)``), e.g. the head's ``prior_generator.strides`` (the
            distiller passes them). None infers them from the map sizes
            (:func:`infer_strides`).
        use_context_box (bool): Adds a whole-image "object" with an empty
            class to the set encoder and the attention; its mapped vector is
            broadcast onto every location. LGD's one-stage configs have it;
            ``configs/sssd/`` turns it off for FCOS and Faster R-CNN as
            LGD does. Defaults to True.
        detach_appearance (bool): Stops the teacher's gradient into the
            student maps it pools appearance from (LGD does so for two-stage
            detectors; the distiller sets it for them). Defaults to False.
        feat_channels (int, optional): Width of the teacher's convs
            (appearance and mapper). None takes the preset's: 64 for
            ``'lite'`` (about 7x cheaper convs), C for ``'lgd'``.
        box_position (bool): Also paints each cell's position inside its
            box (:func:`paint_box_positions`) as 2 extra mapper input
            channels. Not in LGD; measured in
            docs/benchmarks/archive.md. Defaults to False.
        box_geometry (bool): Also paints each box's offset from each
            cell's prior and its log-sides, in the level's strides
            (:func:`paint_box_geometry`), as 4 extra mapper input channels:
            the dense head's box targets, linearly. Not in LGD; measured in
            docs/benchmarks/digits (the 5200 probe). Defaults to False.
        box_class (bool): Also paints each box's one-hot class as K extra
            mapper input channels. Not in LGD; the recommended teacher's
            (docs/user_guides/teacher.md). Defaults to False.
        class_loss_weight (float): Weight of an auxiliary cross-entropy
            that reads each object's class from the box mean of its teacher
            maps (one Linear shared by the levels; :meth:`class_loss`, added
            by the distiller as ``teacher.loss_class``). Not in LGD; the
            recommended teacher's. Defaults to 0.
        student_residual (bool): Adds the student's own maps, detached, to
            each output: the teacher learns a label-guided change of the
            student's maps, and with the affine output norm's weight
            initialised to 0 it starts as the student exactly, so it finds
            boxes at least as well as its student at the start. Not in LGD;
            measured in docs/benchmarks/digits (the 4300 probe). Defaults to
            False.
        init_cfg (dict or list[dict], optional): Initialization config.

    Shapes:
        - feats: P tensors (N, C, H_p, W_p), the student's FPN maps.
        - output: P tensors (N, C, H_p, W_p).
    """

    def __init__(self,
                 in_channels: int = 256,
                 num_levels: int = 5,
                 num_classes: int = 80,
                 preset: str = 'lite',
                 preset_overrides: Optional[dict] = None,
                 strides: Optional[Sequence] = None,
                 use_context_box: bool = True,
                 detach_appearance: bool = False,
                 feat_channels: Optional[int] = None,
                 box_position: bool = False,
                 box_geometry: bool = False,
                 box_class: bool = False,
                 class_loss_weight: float = 0.,
                 student_residual: bool = False,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        opts = resolve_preset(preset, preset_overrides, feat_channels,
                              in_channels)
        feat_channels = opts['feat_channels']
        for name, value in [('in_channels', in_channels),
                            ('num_levels', num_levels),
                            ('num_classes', num_classes),
                            ('feat_channels', feat_channels)]:
            if not (isinstance(value, int) and value > 0):
                raise ValueError(f'LabelEncoderTeacher: {name} must be a '
                                 f'positive int, got {value!r}')
        if strides is not None and len(strides) != num_levels:
            raise ValueError(f'LabelEncoderTeacher: {len(strides)} strides '
                             f'for {num_levels} levels')
        if class_loss_weight < 0:
            raise ValueError(f'LabelEncoderTeacher: class_loss_weight must '
                             f'be >= 0, got {class_loss_weight}')
        self.in_channels = in_channels
        self.num_levels = num_levels
        self.num_classes = num_classes
        self.preset = preset
        self.strides = None if strides is None else [
            pair_stride(s) for s in strides
        ]
        self.use_context_box = use_context_box
        self.detach_appearance = detach_appearance
        self.signed_descriptor = opts['signed_descriptor']
        self.context_extent = opts['context_extent']
        self.relation_residual = opts['relation_residual']
        self.box_position = box_position
        self.box_geometry = box_geometry
        self.box_class = box_class
        self.class_loss_weight = class_loss_weight
        self.student_residual = student_residual
        self.class_readout = (nn.Linear(in_channels, num_classes)
                              if class_loss_weight > 0 else None)

        encoder_channels = opts['encoder_channels']
        local_c, global_c = encoder_channels[0], encoder_channels[-1]
        stn = opts['spatial_transformers']
        self.descriptor_stn = SpatialTransformer(4 + num_classes) \
            if stn else None
        self.feature_stn = SpatialTransformer(local_c) if stn else None
        self.local_encoder = object_mlp([4 + num_classes, local_c])
        self.global_encoder = object_mlp(encoder_channels)
        self.label_proj = object_mlp([local_c + global_c, in_channels]) \
            if opts['label_norm'] else nn.Linear(local_c + global_c,
                                                 in_channels)
        self.kv_proj = nn.Sequential(
            nn.Linear(in_channels, in_channels),
            nn.LayerNorm(
                in_channels, elementwise_affine=opts['kv_norm_affine']),
            nn.ReLU(inplace=True))
        bias = True if opts['conv_bias'] else 'auto'
        # LGD's norm: one group, non-affine
        norm_cfg = dict(type='GN', num_groups=1, affine=False)
        self.appearance_conv = ConvModule(
            in_channels, feat_channels, 3, padding=1, bias=bias,
            norm_cfg=norm_cfg)
        self.appearance_fc = nn.Linear(feat_channels, in_channels) \
            if opts['appearance_fc'] else None
        self.relation = nn.MultiheadAttention(
            in_channels, opts['num_heads'], batch_first=True)
        self.mapper_fc = nn.Linear(in_channels, feat_channels)
        self.context_fc = nn.Linear(in_channels, feat_channels) if (
            opts['separate_context_fc'] and use_context_box) else None
        self.mapper_conv = ConvModule(
            feat_channels + 2 * box_position + 4 * box_geometry +
            num_classes * box_class,
            feat_channels, 3, padding=1, act_cfg=None)
        self.refine = nn.Sequential(*[
            ConvModule(feat_channels, feat_channels, 3, padding=1, bias=bias,
                       norm_cfg=norm_cfg)
            for _ in range(opts['num_refine_convs'])
        ])
        # The detection head sees these maps: LGD's are unit-variance
        # (non-affine GN); 'lite' lets their scale be learnt.
        self.out_conv = ConvModule(
            feat_channels, in_channels, 3, padding=1, bias=bias,
            norm_cfg=dict(
                type='GN', num_groups=1, affine=opts['out_norm_affine']),
            act_cfg=None)

    def init_weights(self) -> None:
        """mmengine's initialisation, then (``student_residual`` with an
        affine output norm) the output norm's weight set to 0, so the
        teacher's maps start as the student's."""
        super().init_weights()
        norm = self.out_conv.norm
        if self.student_residual and norm.weight is not None:
            nn.init.zeros_(norm.weight)

    def level_strides(self, feats: Sequence[Tensor],
                      input_size: Tuple[int, int]) -> List[Tuple[float,
                                                                 float]]:
        """``(sx, sy)`` of each level: the configured ones or
        :func:`infer_strides`."""
        if self.strides is not None:
            return self.strides
        return infer_strides([f.shape[-2:] for f in feats], input_size)

    def _objects(self, batch_data_samples: SampleList,
                 device: torch.device) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """:func:`gather_objects` with this teacher's options."""
        return gather_objects(batch_data_samples, self.num_classes, device,
                              self.use_context_box, self.context_extent,
                              self.signed_descriptor)

    def _class_ids(self, descriptors: Tensor, is_context: Tensor) -> Tensor:
        """Class indices of the (non-context) objects' descriptors."""
        return descriptors[~is_context, 4:].argmax(1)

    def _encode_labels(self, descriptors: Tensor, img_ids: Tensor,
                       num_imgs: int) -> Tensor:
        """(T, 4+K) descriptors -> (T, C) label embeddings."""
        if self.descriptor_stn is not None:
            descriptors = self.descriptor_stn(descriptors)
        local = self.local_encoder(descriptors)
        if self.feature_stn is not None:
            local = self.feature_stn(local)
        point = self.global_encoder(local)
        # The features are >= 0 after ReLU, so a zero init is an exact
        # max-pool and an image without objects gets a zero vector.
        index = img_ids[:, None].expand_as(point)
        pooled = point.new_zeros(num_imgs, point.size(1)).scatter_reduce(
            0, index, point, 'amax')
        return self.label_proj(torch.cat([local, pooled[img_ids]], dim=1))

    def _relate(self, appearance: Tensor, label_embeddings: Tensor,
                img_ids: Tensor, num_imgs: int, need_weights: bool = False
                ) -> Tuple[Tensor, Optional[Tensor]]:
        """Attention from appearance (T, P, C) to the label embeddings (T, C)
        of the same image; returns (T, P, C) and, with ``need_weights``,
        (T, P) the weight (averaged over heads) each object puts on its own
        label at each level, else None."""
        kv = self.kv_proj(label_embeddings)  # fp16 under autocast
        return attend_within_images(self.relation, appearance, kv, img_ids,
                                    num_imgs, need_weights)

    def class_loss(self, maps: Sequence[Tensor],
                   batch_data_samples: SampleList) -> Tensor:
        """``class_loss_weight`` x the cross-entropy of each object's class
        from the box mean of its maps, averaged over objects and levels.

        Args:
            maps (Sequence[Tensor]): P teacher maps (N, C, H_p, W_p).
            batch_data_samples (list[:obj:`DetDataSample`]): As in
                :meth:`forward`.

        Returns:
            Tensor: Scalar loss; 0 for a batch without objects.
        """
        boxes, descriptors, img_ids, is_context = self._objects(
            batch_data_samples, maps[0].device)
        objs = ~is_context
        if not objs.any():
            return maps[0].sum() * 0
        boxes, img_ids = boxes[objs], img_ids[objs]
        class_ids = self._class_ids(descriptors, is_context)
        strides = self.level_strides(
            maps, batch_data_samples[0].batch_input_shape)
        logits = torch.cat([
            self.class_readout(
                box_mean_pool(m, img_ids,
                              boxes_to_cells(boxes, m.shape[-2:], stride)))
            for m, stride in zip(maps, strides)
        ])
        return self.class_loss_weight * nn.functional.cross_entropy(
            logits, class_ids.repeat(len(maps)))

    def relate(self, feats: Sequence[Tensor], batch_data_samples: SampleList,
               need_weights: bool = False) -> dict:
        """Steps 1-4 for each object of the batch: what :meth:`forward`
        paints, and what ``tools/analysis_tools/probe_teacher.py`` probes.

        Args:
            feats (Sequence[Tensor]): P student maps (N, C, H_p, W_p).
            batch_data_samples (list[:obj:`DetDataSample`]): As in
                :meth:`forward`.
            need_weights (bool): Also return ``own_weight``.

        Returns:
            dict: T objects (context boxes, if on, last): ``boxes`` (T, 4),
            ``descriptors`` (T, 4 + K), ``img_ids`` (T, ), ``is_context``
            (T, ) bool, ``strides`` (P pairs), ``cells`` (P tensors (T, 4)),
            ``label_embeddings`` (T, C), ``appearance`` (T, P, C) the
            attention's query, ``related`` (T, P, C) its output (plus the
            label embedding with ``relation_residual``), ``own_weight``
            (T, P) or None.
        """
        if len(feats) != self.num_levels or any(
                f.size(1) != self.in_channels for f in feats):
            raise ValueError(
                f'LabelEncoderTeacher: expects {self.num_levels} maps of '
                f'{self.in_channels} channels, got '
                f'{[tuple(f.shape) for f in feats]}')
        num_imgs = feats[0].size(0)
        strides = self.level_strides(
            feats, batch_data_samples[0].batch_input_shape)
        boxes, descriptors, img_ids, is_context = self._objects(
            batch_data_samples, feats[0].device)
        descriptors = descriptors.to(feats[0].dtype)
        label_embeddings = self._encode_labels(descriptors, img_ids,
                                               num_imgs)
        cells: List[Tensor] = []
        appearance: List[Tensor] = []
        for feat, stride in zip(feats, strides):
            if self.detach_appearance:
                feat = feat.detach()
            cells.append(boxes_to_cells(boxes, feat.shape[-2:], stride))
            appearance.append(
                box_mean_pool(self.appearance_conv(feat), img_ids,
                              cells[-1]))
        appearance = torch.stack(appearance, 1)  # (T, P, C')
        if self.appearance_fc is not None:
            appearance = self.appearance_fc(appearance)
        related, own_weight = self._relate(appearance, label_embeddings,
                                           img_ids, num_imgs, need_weights)
        if self.relation_residual:
            related = related + label_embeddings.unsqueeze(1)
        return dict(boxes=boxes, descriptors=descriptors, img_ids=img_ids,
                    is_context=is_context, strides=strides, cells=cells,
                    label_embeddings=label_embeddings,
                    appearance=appearance, related=related,
                    own_weight=own_weight)

    def forward(self, feats: Sequence[Tensor],
                batch_data_samples: SampleList) -> Tuple[Tensor]:
        """Build the teacher maps.

        Args:
            feats (Sequence[Tensor]): P student maps (N, C, H_p, W_p).
            batch_data_samples (list[:obj:`DetDataSample`]): With
                ``gt_instances`` (``bboxes``, ``labels``) and the
                ``batch_input_shape`` and ``img_shape`` metainfo.

        Returns:
            tuple[Tensor]: P teacher maps (N, C, H_p, W_p).
        """
        state = self.relate(feats, batch_data_samples)
        num_imgs = feats[0].size(0)
        boxes, descriptors, img_ids, is_context, cells, strides = (
            state[k] for k in ('boxes', 'descriptors', 'img_ids',
                               'is_context', 'cells', 'strides'))
        related = state['related']
        onehot = (descriptors[:, 4:] > (0 if self.signed_descriptor else .5)
                  ).to(descriptors.dtype)
        objs = ~is_context
        mapped = self.mapper_fc(related[objs])  # (T_obj, P, C')
        if self.use_context_box:
            context_fc = self.context_fc or self.mapper_fc
            # (N, P, C'): context boxes come last, one per image in order
            context = context_fc(related[is_context])

        outs = []
        for lvl, feat in enumerate(feats):
            painted = paint_boxes(mapped[:, lvl], img_ids[objs],
                                  cells[lvl][objs], num_imgs,
                                  feat.shape[-2:])
            if self.box_position:
                position = paint_box_positions(
                    boxes[objs], img_ids[objs], cells[lvl][objs], num_imgs,
                    feat.shape[-2:], strides[lvl])
                painted = torch.cat([painted, position], dim=1)
            if self.box_geometry:
                geometry = paint_box_geometry(
                    boxes[objs], img_ids[objs], cells[lvl][objs], num_imgs,
                    feat.shape[-2:], strides[lvl])
                painted = torch.cat([painted, geometry], dim=1)
            if self.box_class:
                painted = torch.cat([
                    painted,
                    paint_boxes(onehot[objs], img_ids[objs],
                                cells[lvl][objs], num_imgs, feat.shape[-2:])
                ], dim=1)
            x = self.mapper_conv(painted)
            if self.use_context_box:
                x = x + context[:, lvl, :, None, None]
            x = self.out_conv(self.refine(x.relu()))
            # never a path from the teacher's losses into the student here
            outs.append(x + feat.detach() if self.student_residual else x)
        return tuple(outs)
