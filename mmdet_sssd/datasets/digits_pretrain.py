# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""A backbone pretrained on the machine: the digits benchmark's "ImageNet".

COCO students start from ImageNet weights. The embedded benchmark's students
start from this instead: the digits config's backbone (a quarter-width
ResNet-18), trained to classify crops rendered from the **train** split's
source digits only (never a val digit), 11 classes: the ten digits and
"background", a crop of the generator's clutter alone (colour noise,
strokes, digit fragments). The crops are drawn the way the detection images
are (same backgrounds, scales, colours and contrasts, as PNG bytes would
hold them), so the pretrained BN statistics fit the detection images, and
the backbone learns both what a digit is and what clutter is not.

The scales are the 96-pixel scenes' (glyphs 10-32 pixels in 32-pixel crops)
unless ``scales='coco'``: the COCO-layout scenes' glyphs (8-150 pixels, drawn
by size class as those scenes draw them) in 160-pixel crops of 192-pixel
backgrounds. A backbone pretrained at the 96-pixel scales has never seen a
digit wider than 32 pixels, most of the COCO layout's medium and all of its
large ones. Pretrained at the layout's scales it classes them, but the
COCO-layout detector trained from it is 5 AP worse (docs/benchmarks/digits,
the 3700 probe), so the default stays.

Deterministic: a fixed seed gives the same crops, initial weights and batch
order, and training runs on one thread, so the same seed writes the same
weights. The checkpoint holds ``{'state_dict': backbone weights}`` keyed as
the backbone's own parameters (``conv1.weight``, ``layer1.0...``), what
``init_cfg=dict(type='Pretrained', checkpoint=...)`` of mmdet's ``ResNet``
loads.
"""
import logging
import time
from typing import Dict, Optional

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger

from .coco_layout import IMAGE_SIZE as COCO_IMAGE_SIZE
from .coco_layout import SIDE_RANGES, draw_glyph_side, log_uniform_side
from .digits_generator import _background, paste_glyph, split_sources

# the digits config's backbone, as built by mmdet (configs/digits/)
BACKBONE = dict(type='ResNet', depth=18, base_channels=16, num_stages=4,
                out_indices=(3, ), norm_cfg=dict(type='BN',
                                                 requires_grad=True),
                norm_eval=False, style='pytorch')
# mmdet's DetDataPreprocessor of the configs (RGB, ImageNet mean/std)
MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
# the crops of each ``scales``: crop side, scene side of the background
CROPS = dict(digits=dict(size=32, image_size=96),
             coco=dict(size=SIDE_RANGES['large'][1] + 10,
                       image_size=COCO_IMAGE_SIZE))


def _check_scales(scales: str) -> None:
    if scales not in CROPS:
        raise ValueError(f'scales must be one of {sorted(CROPS)}, got '
                         f'{scales!r}')


def render_crops(num: int, size: int = 32, min_scale: int = 10,
                 seed: int = 0, data_seed: int = 0, image_size: int = 96,
                 scales: str = 'digits', max_scale: Optional[int] = None):
    """``num`` crops (uint8, N x size x size x 3, BGR as cv2 writes them)
    and labels (0-9 a digit, 10 background) from the train split's
    source digits of the generator's ``data_seed``. ``scales='digits'``:
    glyph sides log-uniform from ``min_scale`` to ``max_scale`` (default
    ``size``); ``'coco'``: a COCO size class drawn with the COCO layout's
    shares, then its side (``size`` must hold the largest, 150;
    ``min_scale`` and ``max_scale`` are not read)."""
    _check_scales(scales)
    if image_size < size or (max_scale or size) > size:
        raise ValueError(f'render_crops: a {size}-pixel crop needs a '
                         f'background of at least that side (image_size '
                         f'{image_size}) and glyphs no larger (max_scale '
                         f'{max_scale})')
    if scales == 'coco' and size < SIDE_RANGES['large'][1]:
        raise ValueError(f"scales='coco' draws glyphs up to "
                         f"{SIDE_RANGES['large'][1]} pixels: size must be "
                         f'at least that, got {size}')
    sources, labels = split_sources(data_seed)['train']
    rng = np.random.RandomState(seed)
    crops = np.empty((num, size, size, 3), dtype=np.uint8)
    targets = np.empty(num, dtype=np.int64)
    for i in range(num):
        # a window of a detection-sized background: the same clutter
        # density as the detection images
        x, y = rng.randint(0, image_size - size + 1, 2)
        img = _background(rng, image_size, sources)[y:y + size, x:x + size]
        target = 10
        if rng.uniform() > 1 / 11:
            idx = rng.randint(len(sources))
            if scales == 'coco':
                s = draw_glyph_side(rng)
            else:
                s = log_uniform_side(rng, min_scale, max_scale or size)
            glyph = cv2.resize(sources[idx], (s, s),
                               interpolation=cv2.INTER_LINEAR)
            x0, y0 = rng.randint(0, size - s + 1, 2)
            paste_glyph(rng, img, glyph, x0, y0)
            target = int(labels[idx])
        crops[i] = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
        targets[i] = target
    return crops, targets


def _to_tensor(crops: np.ndarray) -> torch.Tensor:
    rgb = crops[..., ::-1].astype(np.float32)  # bgr_to_rgb, as the configs
    return torch.from_numpy(
        ((rgb - MEAN) / STD).transpose(0, 3, 1, 2).copy())


def pretrain_digits_backbone(out_file: str,
                             num_crops: int = 12000,
                             epochs: int = 6,
                             batch_size: int = 64,
                             lr: float = 0.003,
                             size: Optional[int] = None,
                             seed: int = 0,
                             data_seed: int = 0,
                             threads: int = 1,
                             num_val: int = 1000,
                             log: Optional[callable] = print,
                             scales: str = 'digits') -> Dict:
    """Train the digits backbone on crop classification; save it.

    Args:
        out_file (str): Checkpoint to write (``{'state_dict': ...,
            'meta': ...}``).
        num_crops (int): Train crops, drawn once. Defaults to 12000.
        epochs (int): Passes over them. Defaults to 6.
        batch_size (int): Defaults to 64.
        lr (float): Peak LR of AdamW (weight decay 0.05), one cycle.
        size (int, optional): Crop side. Defaults to the ``scales``'
            (32 or 160).
        seed (int): Seed of crops, weights and batch order.
        data_seed (int): The generator's seed, which splits the source
            digits; only its train digits are used.
        threads (int): Torch threads while training (1: the same weights
            on any machine of the same build).
        num_val (int): Held-out crops (other render seed, the same train
            digits) on which the accuracy is reported.
        log (callable): Progress messages; None for silence.
        scales (str): The glyph scales of the crops: ``'digits'`` (the
            96-pixel scenes', the default) or ``'coco'`` (the COCO
            layout's, 8-150 pixels; 160-pixel crops, about 9 times the
            CPU time).

    Returns:
        dict: ``accuracy`` on the held-out crops, ``seconds``.
    """
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    start = time.time()
    _check_scales(scales)
    size = size or CROPS[scales]['size']
    image_size = CROPS[scales]['image_size']
    crops, targets = render_crops(num_crops, size, seed=seed,
                                  data_seed=data_seed,
                                  image_size=image_size, scales=scales)
    val_crops, val_targets = render_crops(num_val, size, seed=seed + 10**6,
                                          data_seed=data_seed,
                                          image_size=image_size,
                                          scales=scales)
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            backbone = MODELS.build(BACKBONE)
            logger = MMLogger.get_current_instance()
            level = logger.level
            logger.setLevel(logging.WARNING)  # its per-parameter init log
            try:
                backbone.init_weights()
            finally:
                logger.setLevel(level)
            head = torch.nn.Linear(backbone.feat_dim, 11)
            params = list(backbone.parameters()) + list(head.parameters())
            optim = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
            steps = epochs * (num_crops // batch_size)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                optim, max_lr=lr, total_steps=steps, pct_start=0.15)
            # one batch at a time in float: 160-pixel crops would take
            # 3.7 GB at once (the same values either way)
            y_all = torch.from_numpy(targets)
            gen = torch.Generator().manual_seed(seed)
            backbone.train()
            for epoch in range(epochs):
                order = torch.randperm(num_crops, generator=gen)
                total, seen = 0.0, 0
                for b in range(num_crops // batch_size):
                    idx = order[b * batch_size:(b + 1) * batch_size]
                    x = _to_tensor(crops[idx.numpy()])
                    # random horizontal shifts would move digits off the
                    # crop; flips would change them: none
                    logits = head(backbone(x)[-1].mean((2, 3)))
                    loss = F.cross_entropy(logits, y_all[idx])
                    optim.zero_grad()
                    loss.backward()
                    optim.step()
                    sched.step()
                    total += loss.item() * len(idx)
                    seen += len(idx)
                if log:
                    log(f'[pretrain] epoch {epoch + 1}/{epochs}: loss '
                        f'{total / seen:.3f} ({time.time() - start:.0f} s)')
            backbone.eval()
            with torch.no_grad():
                pred = head(backbone(_to_tensor(val_crops))[-1].mean(
                    (2, 3))).argmax(1).numpy()
    finally:
        torch.set_num_threads(old_threads)
    accuracy = float((pred == val_targets).mean())
    seconds = time.time() - start
    meta = dict(accuracy=accuracy, num_crops=num_crops, epochs=epochs,
                batch_size=batch_size, lr=lr, size=size, seed=seed,
                data_seed=data_seed, classes=11, scales=scales)
    state = {k: v.detach().clone()
             for k, v in backbone.state_dict().items()}
    torch.save(dict(state_dict=state, meta=meta), out_file)
    if log:
        log(f'[pretrain] held-out crop accuracy {100 * accuracy:.1f}% '
            f'(11 classes) in {seconds:.0f} s -> {out_file}')
    return dict(accuracy=accuracy, seconds=seconds)
