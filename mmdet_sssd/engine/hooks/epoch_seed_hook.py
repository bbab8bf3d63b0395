# Copyright (c) mmdet_sssd contributors. All rights reserved.
import random
from typing import Optional

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseeds Python's, NumPy's and torch's global random generators at the
    start of every training epoch from ``(seed, epoch, rank)``.

    mmengine's ``--resume`` restores the seed but not the state of the
    generators, which has moved on by the time the checkpoint is written
    (and validation draws from it in between). Drawing each epoch from a
    seed that depends only on the epoch makes a run resumed from an
    end-of-epoch checkpoint take the same random decisions (data
    augmentation, RoI sampling, the DataLoader's worker seeds) as an
    uninterrupted one, so deterministic runs give the same weights.

    Args:
        seed (int, optional): Base seed. Defaults to the runner's seed
            (``randomness.seed``, restored on resume).
        diff_rank_seed (bool): Different streams per process. Defaults to
            False, as mmengine's ``randomness.diff_rank_seed``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None,
                 diff_rank_seed: bool = False) -> None:
        self.seed = seed
        self.diff_rank_seed = diff_rank_seed

    def before_train_epoch(self, runner) -> None:
        base = runner.seed if self.seed is None else self.seed
        key = [int(base), runner.epoch]
        if self.diff_rank_seed:
            key.append(get_rank())
        # SeedSequence spreads nearby keys over unrelated streams.
        seed = int(np.random.SeedSequence(key).generate_state(1)[0])
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # also seeds every CUDA device
