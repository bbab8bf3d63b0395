# Copyright (c) mmdet_sssd contributors. All rights reserved.
import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import ConfigType, OptMultiConfig
from mmengine.model import BaseModule
from torch import Tensor

from .spatial_transformer import SpatialTransformer, object_mlp


def _pair(stride) -> Tuple[float, float]:
    """A level's stride as ``(sx, sy)`` (mmdet prior generators give
    ``(w, h)`` pairs)."""
    if isinstance(stride, (int, float)):
        return float(stride), float(stride)
    return float(stride[0]), float(stride[1])


def infer_strides(feat_sizes: Sequence[Tuple[int, int]],
                  input_size: Tuple[int, int]) -> List[Tuple[float, float]]:
    """Strides of FPN levels read from their sizes, for when the head's are
    not given: for each level, the smallest power of two above the previous
    level's stride whose ``ceil(input / stride)`` is the level's size (P7 of
    an 800x1344 input is 7x11: stride 128, not 800/7), else the power of two
    nearest to ``input / size``.

    Args:
        feat_sizes (Sequence[tuple[int]]): (h, w) of each level, finest
            first.
        input_size (tuple[int]): (H, W) of the padded batch input.

    Returns:
        list[tuple[float]]: ``(sx, sy)`` of each level.
    """
    H, W = input_size
    strides, previous = [], 0
    for h, w in feat_sizes:
        fits = [2**k for k in range(13) if 2**k > previous
                and math.ceil(H / 2**k) == h and math.ceil(W / 2**k) == w]
        stride = fits[0] if fits else 2**round(
            math.log2(max(math.sqrt(H * W / (h * w)), 1.)))
        strides.append((float(stride), float(stride)))
        previous = stride
    return strides


def boxes_to_cells(boxes: Tensor, feat_size: Tuple[int, int],
                   stride) -> Tensor:
    """Map boxes in input pixels to half-open cell ranges of a feature map.

    Cell ``j`` of a level of stride ``s`` spans ``[j s, (j + 1) s)`` of the
    input, where the head's priors of that level sit; a box gets the cells
    whose span overlaps it. Every box covers at least one cell, also when
    it has zero area, is smaller than a cell or lies outside the map (it
    is then moved to the nearest border cell).

    Args:
        boxes (Tensor): (T, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        feat_size (tuple[int]): (h, w) of the feature map.
        stride (int | tuple): The level's stride, ``s`` or ``(sx, sy)``.

    Returns:
        Tensor: (T, 4) long ``x1, y1, x2, y2`` with ``0 <= x1 < x2 <= w``.
    """
    h, w = feat_size
    sx, sy = _pair(stride)
    scale = boxes.new_tensor([1 / sx, 1 / sy] * 2)
    limit = boxes.new_tensor([w, h, w, h])
    cells = boxes * scale
    lo = cells[:, :2].floor().clamp(min=0)
    lo = torch.minimum(lo, limit[:2] - 1)
    hi = torch.maximum(cells[:, 2:].ceil(), lo + 1)
    hi = torch.minimum(hi, limit[2:])
    return torch.cat([lo, hi], dim=1).long()


def box_mean_pool(feat: Tensor, img_ids: Tensor, cells: Tensor) -> Tensor:
    """Mean of ``feat`` inside each box, from an integral image.

    Costs O(N*C*h*w + T*C), whatever the number and size of the boxes.

    Args:
        feat (Tensor): (N, C, h, w) feature map.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.

    Returns:
        Tensor: (T, C) box means.
    """
    # fp64 integral: a fp32 running sum over a large map loses the small
    # boxes' digits.
    integral = feat.double().cumsum(2).cumsum(3)
    integral = nn.functional.pad(integral, (1, 0, 1, 0))
    x1, y1, x2, y2 = cells.unbind(1)
    box_sum = (integral[img_ids, :, y2, x2] - integral[img_ids, :, y1, x2] -
               integral[img_ids, :, y2, x1] + integral[img_ids, :, y1, x1])
    area = ((x2 - x1) * (y2 - y1)).unsqueeze(1)
    return (box_sum / area).to(feat.dtype)


def paint_boxes(values: Tensor, img_ids: Tensor, cells: Tensor,
                num_imgs: int, feat_size: Tuple[int, int]) -> Tensor:
    """Paint each box's vector onto its cells; overlaps add up, background 0.

    Uses a 2-D difference array and two cumulative sums, so the cost does not
    grow with the box area.

    Args:
        values (Tensor): (T, C) one vector per box.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.
        num_imgs (int): N.
        feat_size (tuple[int]): (h, w).

    Returns:
        Tensor: (N, C, h, w) painted map.
    """
    h, w = feat_size
    diff = values.new_zeros(num_imgs, h + 1, w + 1, values.size(1))
    x1, y1, x2, y2 = cells.unbind(1)
    ids = torch.cat([img_ids] * 4)
    ys = torch.cat([y1, y1, y2, y2])
    xs = torch.cat([x1, x2, x1, x2])
    signed = torch.cat([values, -values, -values, values])
    diff = diff.index_put((ids, ys, xs), signed, accumulate=True)
    painted = diff.cumsum(1).cumsum(2)[:, :h, :w]
    return painted.permute(0, 3, 1, 2).contiguous()


def paint_box_positions(boxes: Tensor, img_ids: Tensor, cells: Tensor,
                        num_imgs: int, feat_size: Tuple[int, int],
                        stride) -> Tensor:
    """Paint each cell's position inside its box: ``u, v`` in about [-1, 1],
    0 at the box centre; background 0, overlaps add up.

    ``u = (x - cx) / (w / 2)`` is affine in the cell centre ``x``, so it is
    ``x * a - b`` with ``a = 1 / (w/2)`` and ``b = cx / (w/2)`` painted by
    :func:`paint_boxes`: the cost does not grow with the box area either.
    Half-sizes are at least half a cell, so tiny boxes stay bounded.

    Args:
        boxes (Tensor): (T, 4) boxes ``x1, y1, x2, y2`` in input pixels.
        img_ids (Tensor): (T, ) image index of each box.
        cells (Tensor): (T, 4) cell ranges from :func:`boxes_to_cells`.
        num_imgs (int): N.
        feat_size (tuple[int]): (h, w).
        stride (int | tuple): The level's stride (:func:`boxes_to_cells`).

    Returns:
        Tensor: (N, 2, h, w) painted ``u, v``.
    """
    h, w = feat_size
    sx, sy = _pair(stride)
    scale = boxes.new_tensor([1 / sx, 1 / sy] * 2)
    b = boxes * scale  # in cells
    centre = (b[:, :2] + b[:, 2:]) / 2
    half = ((b[:, 2:] - b[:, :2]) / 2).clamp(min=0.5)
    coef = paint_boxes(
        torch.cat([1 / half, centre / half], dim=1), img_ids, cells, num_imgs,
        feat_size)  # (N, 4, h, w): a_x, a_y, b_x, b_y
    xs = torch.arange(w, device=boxes.device, dtype=boxes.dtype) + 0.5
    ys = torch.arange(h, device=boxes.device, dtype=boxes.dtype) + 0.5
    u = coef[:, 0] * xs[None, None, :] - coef[:, 2]
    v = coef[:, 1] * ys[None, :, None] - coef[:, 3]
    return torch.stack([u, v], dim=1)


# What each preset sets; an option given explicitly wins. 'lgd' follows
# LGD's reference teacher module for module (docs/lgd_fidelity.md);
# 'lite' is this plugin's cheaper teacher (64-wide convs, no STNs).
_PRESET_TABLE = [
    # option                 'lite'      'lgd'
    ('feat_channels',        64,         None),  # None: = in_channels
    ('spatial_transformers', False,      True),
    ('signed_descriptor',    False,      True),
    ('context_extent',       'image',    'padded'),
    ('label_norm',           False,      True),
    ('kv_norm_affine',       True,       False),
    ('appearance_fc',        True,       False),
    ('relation_residual',    True,       False),
    ('separate_context_fc',  False,      True),
    ('conv_bias',            False,      True),
    ('out_norm_affine',      True,       False),
]
TEACHER_PRESETS = {
    name: {row[0]: row[i + 1] for row in _PRESET_TABLE}
    for i, name in enumerate(('lite', 'lgd'))
}


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
       position inside the box and K of the painted one-hot class,
       ``Conv3x3 (+ context) - ReLU``, then
       ``[Conv3x3-GN(1)-ReLU] x num_refine_convs, Conv3x3-GN(1)``.

    A box covers the cells of each level whose stride-grid span overlaps it
    (:func:`boxes_to_cells`), at least one; the strides are the head's
    (the distiller passes them) or inferred from the map sizes.

    Options marked *preset* default to the value of ``preset`` (see
    :data:`TEACHER_PRESETS`); an explicit value wins.

    Args:
        in_channels (int): FPN channels C. Defaults to 256.
        num_levels (int): Number of FPN levels P. Defaults to 5.
        num_classes (int): Number of classes K. Defaults to 80.
        preset (str): ``'lite'`` (this plugin's cheaper teacher) or
            ``'lgd'`` (LGD's reference teacher: 256-wide convs with bias,
            spatial transformers, non-affine norms). Defaults to 'lite'.
        strides (Sequence, optional): Stride of each level (int or
            ``(sx, sy)``), e.g. the head's ``prior_generator.strides``.
            None infers them from the map sizes (:func:`infer_strides`).
        use_context_box (bool): Adds a whole-image "object" with an empty
            class to the set encoder and the attention; its mapped vector is
            broadcast onto every location. Defaults to True.
        detach_appearance (bool): Stops the teacher's gradient into the
            student maps it pools appearance from (LGD does so for two-stage
            detectors). Defaults to False.
        encoder_channels (Sequence[int]): Widths of the set encoder MLP.
            Defaults to (64, 128, 1024).
        num_heads (int): Heads of the relation attention. Defaults to 8.
        feat_channels (int, optional): *preset* Width of the teacher's conv
            layers (appearance and mapper); None means C. 'lite': 64 (about
            7x cheaper convs), 'lgd': C.
        spatial_transformers (bool, optional): *preset* LGD's two
            :class:`SpatialTransformer` blocks in the label encoder.
        signed_descriptor (bool, optional): *preset* Rescales the whole
            descriptor, one-hot included, from [0, 1] to [-1, 1] (LGD);
            otherwise only the box part.
        context_extent (str, optional): *preset* The context box:
            ``'padded'`` (the padded batch input, LGD) or ``'image'``.
        label_norm (bool, optional): *preset* Non-affine LayerNorm + ReLU
            after the ``1088 -> C`` projection (LGD).
        kv_norm_affine (bool, optional): *preset* Affine LayerNorm in the
            key/value projection (LGD's is non-affine).
        appearance_fc (bool, optional): *preset* A Linear after appearance
            pooling (not in LGD; needed when ``feat_channels != C``).
        relation_residual (bool, optional): *preset* Adds the label
            embedding to the attention output, so each object keeps its own
            label even when it attends to others (not in LGD).
        separate_context_fc (bool, optional): *preset* Its own mapper Linear
            for the context vector (LGD).
        conv_bias (bool, optional): *preset* Biases in the convs followed
            by a norm (LGD has them: GN(1) does not cancel per-channel
            biases).
        out_norm_affine (bool, optional): *preset* Affine output GN(1)
            (LGD's is non-affine: unit-variance maps).
        num_refine_convs (int): ``Conv3x3-GN-ReLU`` blocks of the mapper.
            Defaults to 2.
        box_position (bool): Also paints each cell's position inside its
            box (:func:`paint_box_positions`) as 2 extra mapper input
            channels. Not in LGD. Defaults to False.
        box_class (bool): Also paints each box's one-hot class as K extra
            mapper input channels. Not in LGD. Defaults to False.
        class_loss_weight (float): Weight of an auxiliary cross-entropy
            that reads each object's class from the box mean of its teacher
            maps (one Linear shared by the levels; :meth:`class_loss`, added
            by the distiller as ``teacher.loss_class``). Not in LGD.
            Defaults to 0.
        norm_cfg (dict): Norm of the appearance and mapper convs.
            Defaults to ``dict(type='GN', num_groups=1, affine=False)``.
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
                 strides: Optional[Sequence] = None,
                 use_context_box: bool = True,
                 detach_appearance: bool = False,
                 encoder_channels: Sequence[int] = (64, 128, 1024),
                 num_heads: int = 8,
                 feat_channels: Optional[int] = None,
                 spatial_transformers: Optional[bool] = None,
                 signed_descriptor: Optional[bool] = None,
                 context_extent: Optional[str] = None,
                 label_norm: Optional[bool] = None,
                 kv_norm_affine: Optional[bool] = None,
                 appearance_fc: Optional[bool] = None,
                 relation_residual: Optional[bool] = None,
                 separate_context_fc: Optional[bool] = None,
                 conv_bias: Optional[bool] = None,
                 out_norm_affine: Optional[bool] = None,
                 num_refine_convs: int = 2,
                 box_position: bool = False,
                 box_class: bool = False,
                 class_loss_weight: float = 0.,
                 norm_cfg: ConfigType = dict(
                     type='GN', num_groups=1, affine=False),
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if preset not in TEACHER_PRESETS:
            raise ValueError(f'LabelEncoderTeacher: preset must be one of '
                             f'{sorted(TEACHER_PRESETS)}, got {preset!r}')
        given = dict(
            spatial_transformers=spatial_transformers,
            signed_descriptor=signed_descriptor,
            context_extent=context_extent,
            label_norm=label_norm,
            kv_norm_affine=kv_norm_affine,
            appearance_fc=appearance_fc,
            relation_residual=relation_residual,
            separate_context_fc=separate_context_fc,
            conv_bias=conv_bias,
            out_norm_affine=out_norm_affine)
        opts = {k: TEACHER_PRESETS[preset][k] if v is None else v
                for k, v in given.items()}
        if feat_channels is None:
            feat_channels = TEACHER_PRESETS[preset]['feat_channels']
        if feat_channels is None:
            feat_channels = in_channels
        for name, value in [('in_channels', in_channels),
                            ('num_levels', num_levels),
                            ('num_classes', num_classes),
                            ('feat_channels', feat_channels)]:
            if not (isinstance(value, int) and value > 0):
                raise ValueError(f'LabelEncoderTeacher: {name} must be a '
                                 f'positive int, got {value!r}')
        if in_channels % num_heads:
            raise ValueError(f'LabelEncoderTeacher: in_channels '
                             f'({in_channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        if opts['context_extent'] not in ('padded', 'image'):
            raise ValueError(f'LabelEncoderTeacher: context_extent must be '
                             f"'padded' or 'image', got "
                             f"{opts['context_extent']!r}")
        if not opts['appearance_fc'] and feat_channels != in_channels:
            raise ValueError(
                f'LabelEncoderTeacher: without appearance_fc the pooled '
                f'appearance ({feat_channels} channels) is the attention '
                f'query ({in_channels}); set feat_channels={in_channels} or '
                f'appearance_fc=True')
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
            _pair(s) for s in strides
        ]
        self.use_context_box = use_context_box
        self.detach_appearance = detach_appearance
        self.signed_descriptor = opts['signed_descriptor']
        self.context_extent = opts['context_extent']
        self.relation_residual = opts['relation_residual']
        self.box_position = box_position
        self.box_class = box_class
        self.class_loss_weight = class_loss_weight
        self.class_readout = (nn.Linear(in_channels, num_classes)
                              if class_loss_weight > 0 else None)

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
        self.appearance_conv = ConvModule(
            in_channels, feat_channels, 3, padding=1, bias=bias,
            norm_cfg=norm_cfg)
        self.appearance_fc = nn.Linear(feat_channels, in_channels) \
            if opts['appearance_fc'] else None
        self.relation = nn.MultiheadAttention(
            in_channels, num_heads, batch_first=True)
        self.mapper_fc = nn.Linear(in_channels, feat_channels)
        self.context_fc = nn.Linear(in_channels, feat_channels) if (
            opts['separate_context_fc'] and use_context_box) else None
        self.mapper_conv = ConvModule(
            feat_channels + 2 * box_position + num_classes * box_class,
            feat_channels, 3, padding=1, act_cfg=None)
        self.refine = nn.Sequential(*[
            ConvModule(feat_channels, feat_channels, 3, padding=1, bias=bias,
                       norm_cfg=norm_cfg) for _ in range(num_refine_convs)
        ])
        # The detection head sees these maps: LGD's are unit-variance
        # (non-affine GN); 'lite' lets their scale be learnt.
        self.out_conv = ConvModule(
            feat_channels,
            in_channels,
            3,
            padding=1,
            bias=bias,
            norm_cfg=dict(
                type='GN', num_groups=1, affine=opts['out_norm_affine']),
            act_cfg=None)

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
        """Gather boxes, descriptors and image ids of the batch.

        Returns:
            tuple: ``boxes`` (T, 4) clamped to the image, ``descriptors``
            (T, 4 + K), ``img_ids`` (T, ), ``is_context`` (T, ) bool. Context
            boxes, if on, come last.
        """
        pad_h, pad_w = batch_data_samples[0].batch_input_shape
        boxes, labels, img_ids = [], [], []
        for i, sample in enumerate(batch_data_samples):
            img_h, img_w = sample.img_shape[:2]
            gt = sample.gt_instances
            b = gt.bboxes
            b = getattr(b, 'tensor', b).to(device).float().reshape(-1, 4)
            limit = b.new_tensor([img_w, img_h, img_w, img_h])
            boxes.append(torch.minimum(b.clamp(min=0), limit))
            labels.append(gt.labels.to(device).long())
            img_ids.append(torch.full_like(labels[-1], i))
        boxes, labels, img_ids = (torch.cat(boxes), torch.cat(labels),
                                  torch.cat(img_ids))
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.numel():
            raise ValueError(
                f'LabelEncoderTeacher: gt label {bad[0].item()} is out '
                f'of range for num_classes={self.num_classes}; check the '
                f'dataset classes and the head/teacher num_classes')
        onehot = nn.functional.one_hot(labels, self.num_classes).float()
        is_context = torch.zeros_like(labels, dtype=torch.bool)
        if self.use_context_box:
            n = len(batch_data_samples)
            if self.context_extent == 'padded':
                ctx = boxes.new_tensor([[0., 0., pad_w, pad_h]]).expand(n, 4)
            else:
                ctx = boxes.new_tensor([[0., 0., s.img_shape[1],
                                         s.img_shape[0]]
                                        for s in batch_data_samples])
            boxes = torch.cat([boxes, ctx])
            onehot = torch.cat([onehot, onehot.new_zeros(n, self.num_classes)])
            img_ids = torch.cat([img_ids, torch.arange(n, device=device)])
            is_context = torch.cat([is_context, is_context.new_ones(n)])
        norm_boxes = boxes / boxes.new_tensor([pad_w, pad_h] * 2)
        descriptors = torch.cat([norm_boxes, onehot], dim=1)
        if self.signed_descriptor:  # LGD: all of it from [0, 1] to [-1, 1]
            descriptors = descriptors * 2 - 1
        else:
            descriptors[:, :4] = norm_boxes * 2 - 1
        return boxes, descriptors, img_ids, is_context

    def _labels(self, descriptors: Tensor, is_context: Tensor) -> Tensor:
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

    def _relate(self, appearance: Tensor, labels: Tensor, img_ids: Tensor,
                num_imgs: int,
                need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """Attention from appearance (T, P, C) to the label embeddings (T, C)
        of the same image; returns (T, P, C) and, with ``need_weights``,
        (T, P) the weight (averaged over heads) each object puts on its own
        label at each level, else None."""
        num_objs, num_levels, channels = appearance.shape
        counts = torch.bincount(img_ids, minlength=num_imgs)
        max_objs = max(int(counts.max()), 1)
        # Position of each object inside its image's padded row.
        order = torch.argsort(img_ids, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.empty_like(img_ids)
        slot[order] = torch.arange(num_objs, device=img_ids.device) - \
            starts[img_ids[order]]
        projected = self.kv_proj(labels)  # fp16 under autocast: kv follows
        kv = projected.new_zeros(num_imgs, max_objs, channels)
        kv[img_ids, slot] = projected
        query = appearance.new_zeros(num_imgs, max_objs, num_levels, channels)
        query[img_ids, slot] = appearance
        pad_mask = torch.arange(max_objs, device=img_ids.device)[None] >= \
            counts[:, None]
        pad_mask[:, 0] = False  # an empty image must not give NaN rows
        out, weights = self.relation(
            query.flatten(1, 2), kv, kv, key_padding_mask=pad_mask,
            need_weights=need_weights)
        related = out.view(num_imgs, max_objs, num_levels,
                           channels)[img_ids, slot]
        if need_weights:  # (N, objs * P, objs) -> each object's own key
            weights = weights.view(num_imgs, max_objs, num_levels,
                                   max_objs)[img_ids, slot, :, slot]
        return related, weights

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
        labels = self._labels(descriptors, is_context)
        strides = self.level_strides(
            maps, batch_data_samples[0].batch_input_shape)
        logits = torch.cat([
            self.class_readout(
                box_mean_pool(m, img_ids,
                              boxes_to_cells(boxes, m.shape[-2:], stride)))
            for m, stride in zip(maps, strides)
        ])
        return self.class_loss_weight * nn.functional.cross_entropy(
            logits, labels.repeat(len(maps)))

    def relate(self, feats: Sequence[Tensor], batch_data_samples: SampleList,
               need_weights: bool = False) -> dict:
        """Steps 1-4 for each object of the batch: what :meth:`forward`
        paints, and what ``tools/probe_teacher.py`` probes.

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
            if self.box_class:
                painted = torch.cat([
                    painted,
                    paint_boxes(onehot[objs], img_ids[objs],
                                cells[lvl][objs], num_imgs, feat.shape[-2:])
                ], dim=1)
            x = self.mapper_conv(painted)
            if self.use_context_box:
                x = x + context[:, lvl, :, None, None]
            x = self.refine(x.relu())
            outs.append(self.out_conv(x))
        return tuple(outs)
