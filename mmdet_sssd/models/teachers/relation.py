# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Attention between the objects of each image of a batch, with the
objects of all images in one flat list."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor


def attend_within_images(attention: nn.MultiheadAttention,
                         appearance: Tensor, kv: Tensor, img_ids: Tensor,
                         num_imgs: int, need_weights: bool = False
                         ) -> Tuple[Tensor, Optional[Tensor]]:
    """Each object's appearance attends to the keys/values of the objects
    of its own image: the flat lists are padded into one row per image and
    the padding is masked.

    Args:
        attention (nn.MultiheadAttention): With ``batch_first=True``.
        appearance (Tensor): (T, P, C) queries, one per object and level.
        kv (Tensor): (T, C) keys = values, one per object.
        img_ids (Tensor): (T, ) image index of each object.
        num_imgs (int): N.
        need_weights (bool): Also return each object's weight on its own
            key.

    Returns:
        tuple: (T, P, C) the attention's output and, with ``need_weights``,
        (T, P) the weight (averaged over heads) each object puts on its own
        key at each level, else None.
    """
    num_objs, num_levels, channels = appearance.shape
    counts = torch.bincount(img_ids, minlength=num_imgs)
    max_objs = max(int(counts.max()), 1)
    # Position of each object inside its image's padded row.
    order = torch.argsort(img_ids, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.empty_like(img_ids)
    slot[order] = torch.arange(num_objs, device=img_ids.device) - \
        starts[img_ids[order]]
    keys = kv.new_zeros(num_imgs, max_objs, channels)  # kv's dtype (AMP)
    keys[img_ids, slot] = kv
    query = appearance.new_zeros(num_imgs, max_objs, num_levels, channels)
    query[img_ids, slot] = appearance
    pad_mask = torch.arange(max_objs, device=img_ids.device)[None] >= \
        counts[:, None]
    pad_mask[:, 0] = False  # an empty image must not give NaN rows
    out, weights = attention(
        query.flatten(1, 2), keys, keys, key_padding_mask=pad_mask,
        need_weights=need_weights)
    related = out.view(num_imgs, max_objs, num_levels,
                       channels)[img_ids, slot]
    if need_weights:  # (N, objs * P, objs) -> each object's own key
        weights = weights.view(num_imgs, max_objs, num_levels,
                               max_objs)[img_ids, slot, :, slot]
    return related, weights
