# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Hooks the reliability tests load into training subprocesses (through
``custom_imports``) to crash a run and to record what each process saw."""
import json
import os
import os.path as osp
import signal

import torch
from mmdet.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class SigkillAtIterHook(Hook):
    """Kills its own process with SIGKILL (no cleanup, as the OOM killer or
    a lost node would) right after training iteration ``iter`` has been
    logged."""

    priority = 'LOWEST'

    def __init__(self, iter: int):
        self.iter = iter

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class RecordRankStateHook(Hook):
    """Writes ``rank<r>.json`` to the work dir: the losses of the first
    iteration and, at the end, every parameter and buffer of the model."""

    def __init__(self):
        self.first_losses = None

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if self.first_losses is None:
            self.first_losses = {k: float(v) for k, v in outputs.items()}

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        state = {k: v.detach().double().flatten().tolist()
                 for k, v in model.state_dict().items()
                 if torch.is_floating_point(v)}
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.json'),
                  'w') as f:
            json.dump(dict(losses=self.first_losses, state=state), f)
