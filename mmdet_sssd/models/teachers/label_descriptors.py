# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The label teacher's input: every ground-truth object of a batch as a
box and a descriptor ``[x1/W, y1/H, x2/W, y2/H, one-hot]``, plus one
context "object" per image."""
from typing import Tuple

import torch
import torch.nn as nn
from mmdet.structures import SampleList
from torch import Tensor


def gt_boxes(batch_data_samples: SampleList, device: torch.device
             ) -> Tuple[Tensor, Tensor, Tensor]:
    """The batch's ground-truth boxes, one tensor for all images.

    Args:
        batch_data_samples (list[:obj:`DetDataSample`]): With
            ``gt_instances`` (boxes a Tensor or mmdet's ``HorizontalBoxes``,
            in input pixels) and the ``img_shape`` metainfo.
        device (torch.device): Where the tensors go.

    Returns:
        tuple: ``boxes`` (T, 4) float, clamped to their image, ``labels``
        (T, ) long, ``img_ids`` (T, ) long: the index of each box's image.
    """
    boxes, labels, img_ids = [], [], []
    for i, sample in enumerate(batch_data_samples):
        img_h, img_w = sample.img_shape[:2]
        gt = sample.gt_instances
        b = getattr(gt.bboxes, 'tensor', gt.bboxes)
        b = b.to(device).float().reshape(-1, 4)
        limit = b.new_tensor([img_w, img_h, img_w, img_h])
        boxes.append(torch.minimum(b.clamp(min=0), limit))
        labels.append(gt.labels.to(device).long())
        img_ids.append(torch.full_like(labels[-1], i))
    return torch.cat(boxes), torch.cat(labels), torch.cat(img_ids)


def gather_objects(batch_data_samples: SampleList, num_classes: int,
                   device: torch.device, use_context_box: bool,
                   context_extent: str, signed_descriptor: bool
                   ) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
    """Boxes, descriptors and image ids of the batch's objects.

    Args:
        batch_data_samples (list[:obj:`DetDataSample`]): With
            ``gt_instances`` and the ``batch_input_shape`` (W, H of the
            descriptor) and ``img_shape`` metainfo.
        num_classes (int): K.
        device (torch.device): Where the tensors go.
        use_context_box (bool): Adds one context box per image, class part
            empty.
        context_extent (str): The context box: ``'padded'`` (the batch
            input, LGD) or ``'image'``.
        signed_descriptor (bool): The whole descriptor from [0, 1] to
            [-1, 1] (LGD); otherwise only the box part.

    Returns:
        tuple: ``boxes`` (T, 4) clamped to the image, ``descriptors``
        (T, 4 + K), ``img_ids`` (T, ), ``is_context`` (T, ) bool. Context
        boxes, if on, come last, one per image in order.
    """
    pad_h, pad_w = batch_data_samples[0].batch_input_shape
    boxes, labels, img_ids = gt_boxes(batch_data_samples, device)
    bad = labels[(labels < 0) | (labels >= num_classes)]
    if bad.numel():
        raise ValueError(
            f'LabelEncoderTeacher: gt label {bad[0].item()} is out of range '
            f'for num_classes={num_classes}; check the dataset classes and '
            f'the head/teacher num_classes')
    onehot = nn.functional.one_hot(labels, num_classes).float()
    is_context = torch.zeros_like(labels, dtype=torch.bool)
    if use_context_box:
        n = len(batch_data_samples)
        if context_extent == 'padded':
            ctx = boxes.new_tensor([[0., 0., pad_w, pad_h]]).expand(n, 4)
        else:
            ctx = boxes.new_tensor([[0., 0., s.img_shape[1], s.img_shape[0]]
                                    for s in batch_data_samples])
        boxes = torch.cat([boxes, ctx])
        onehot = torch.cat([onehot, onehot.new_zeros(n, num_classes)])
        img_ids = torch.cat([img_ids, torch.arange(n, device=device)])
        is_context = torch.cat([is_context, is_context.new_ones(n)])
    norm_boxes = boxes / boxes.new_tensor([pad_w, pad_h] * 2)
    descriptors = torch.cat([norm_boxes, onehot], dim=1)
    if signed_descriptor:  # LGD: all of it from [0, 1] to [-1, 1]
        descriptors = descriptors * 2 - 1
    else:
        descriptors[:, :4] = norm_boxes * 2 - 1
    return boxes, descriptors, img_ids, is_context
