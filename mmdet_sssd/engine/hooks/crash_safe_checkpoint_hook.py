# Copyright (c) mmdet_sssd contributors. All rights reserved.
import os.path as osp
from typing import Optional

from mmdet.registry import HOOKS
from mmengine.hooks import CheckpointHook

from mmdet_sssd.utils.checkpoint import (find_resumable_checkpoint,
                                         is_complete_checkpoint,
                                         register_atomic_backend)


@HOOKS.register_module()
class CrashSafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that survives a crash at any moment.

    - Checkpoints are written atomically (:class:`AtomicLocalBackend`: a
      temporary file, ``fsync``, ``os.replace``), so a kill while one is
      written leaves the previous one intact, never a truncated file.
    - ``resume=True`` without a path (mmdet's ``--resume``) follows
      ``work_dir/last_checkpoint`` as mmengine does; if that names a missing
      or incomplete file, it resumes from the newest complete checkpoint of
      the work dir instead (:func:`find_resumable_checkpoint`), with a
      warning.

    Takes the same arguments as ``CheckpointHook``. Turn it on in a config
    with (merged into the base's checkpoint settings)::

        default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook'))

    Atomic writes apply to a local ``out_dir`` without ``backend_args``;
    other storage is written as mmengine writes it. Nothing outside the
    runner that uses it changes: mmengine's ``local`` backend stays as it is.
    """

    def before_run(self, runner) -> None:
        # Runs before Runner.load_or_resume, which reads these attributes.
        if runner._resume and runner._load_from is None:
            found = self._resumable(runner.work_dir)
            if found is not None:
                runner._load_from = found

    @staticmethod
    def _resumable(work_dir: str) -> Optional[str]:
        pointer = osp.join(work_dir, 'last_checkpoint')
        if not osp.isfile(pointer):
            return None  # mmengine starts over, as without this hook
        with open(pointer) as f:
            named = f.read().strip()
        if named and ('://' in named or osp.isdir(named)
                      or is_complete_checkpoint(named)):
            return None  # mmengine's choice is sound (or not ours to check)
        found = find_resumable_checkpoint(work_dir)
        if found is None:
            raise FileNotFoundError(
                f'resume: {pointer} names {named!r}, which is missing or '
                f'incomplete, and {work_dir} holds no complete checkpoint; '
                f'train without --resume (resume=False) to start over')
        return found

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if (self.file_client_args is None and self.backend_args is None
                and '://' not in str(out_dir)):
            self.backend_args = register_atomic_backend()
        super().before_train(runner)
