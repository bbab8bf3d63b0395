# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Fit a trained distiller's head(s) to one set of maps, everything else
frozen: is what a label teacher's maps give limited by the head that reads
them (trained on the student's maps when ``teacher_trains_head`` is False
or ``'warmup'``), or by the maps themselves? Fitting on the student's own
maps at the same budget is the control."""
from itertools import islice
from typing import Iterable, List

import torch
from mmengine.registry import OPTIMIZERS

MAPS = ('teacher', 'student')


def _cycle(loader: Iterable):
    """``loader``'s batches again and again; an empty one is an error,
    not an endless loop."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError('fit_head: the loader gave no batches (an '
                             'empty training set?)')


def fit_head(model, loader: Iterable, iters: int, maps: str = 'teacher',
             optimizer: dict = None) -> List[float]:
    """Train the head(s) of an ``SSSDDistiller``'s student on ``maps`` for
    ``iters`` batches of ``loader`` (repeated as needed).

    The backbone, neck and teacher run without gradients in eval mode
    (their norm statistics stay as trained); only the head(s)' parameters
    (``model.head_runner.heads``) are updated, by the student's own
    detection loss on the teacher's maps (built from each batch's GT and
    the student's maps) or, as the control, on the student's maps. The
    head is changed in place and the model left in eval mode: score it
    again to see what the fit did.

    Args:
        model (SSSDDistiller): A trained distiller with a label teacher.
        loader (Iterable): Training batches (``pseudo_collate`` dicts, e.g.
            a runner's train dataloader); they go through the model's
            data preprocessor in training mode.
        iters (int): Optimizer steps.
        maps (str): ``'teacher'`` or ``'student'``.
        optimizer (dict): An optimizer config without ``params``.
            Defaults to ``dict(type='AdamW', lr=1e-4)``.

    Returns:
        list[float]: The summed detection loss of each step.
    """
    if maps not in MAPS:
        raise ValueError(f'fit_head: maps must be one of {MAPS}, '
                         f'not {maps!r}')
    if maps == 'teacher' and model.teacher is None:
        raise ValueError('fit_head: the model has no label teacher; fit on '
                         "maps='student' or give a distiller with one")
    if iters < 1:
        raise ValueError(f'fit_head: iters must be >= 1, not {iters}')
    params = [p for head in model.head_runner.heads
              for p in head.parameters()]
    opt = OPTIMIZERS.build(dict(optimizer or dict(type='AdamW', lr=1e-4),
                                params=params))
    model.eval()
    trace = []
    for data in islice(_cycle(loader), iters):
        data = model.data_preprocessor(data, True)
        samples = data['data_samples']
        with torch.no_grad():
            feats = model.extract_feat(data['inputs'])
            if maps == 'teacher':
                feats = model.teacher(feats, samples)
        loss, _ = model.parse_losses(model.head_runner.loss(feats, samples))
        opt.zero_grad()
        loss.backward()
        opt.step()
        trace.append(loss.item())
    return trace
