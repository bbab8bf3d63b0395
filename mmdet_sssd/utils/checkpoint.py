# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Checkpoints: safe loading, atomic writes, resuming after a crash.

Loading. torch >= 2.6 loads with ``weights_only=True`` by default, and
mmengine 0.10.7 does not say otherwise for local files, so its own
checkpoints (they pickle ``HistoryBuffer`` and numpy arrays) fail to load
for ``--resume``, ``load_from`` and testing. :func:`load_from_local_safely`
loads them with torch's restricted unpickler and allows, on top of what
torch allows, exactly what mmengine's checkpoints need
(:func:`mmengine_safe_globals`); everything else is refused with
:class:`UntrustedCheckpointError`, before any of it runs. Importing
``mmdet_sssd`` makes it mmengine's loader for local paths. A file one
trusts on purpose is named in the environment variable
``MMDET_SSSD_TRUSTED_CHECKPOINTS`` (see ``docs/safety.md``).

Writing and resuming are opt-in, per config, through
:class:`~mmdet_sssd.engine.hooks.CrashSafeCheckpointHook`, which uses
:class:`AtomicLocalBackend` and :func:`find_resumable_checkpoint`.
"""
import glob
import logging
import os
import os.path as osp
import pickle
import re
import uuid
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend
from mmengine.fileio.backends import backends
from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader
from mmengine.utils import digit_version, mkdir_or_exist

TRUSTED_CHECKPOINTS_ENV = 'MMDET_SSSD_TRUSTED_CHECKPOINTS'
ATOMIC_BACKEND = 'mmdet_sssd_atomic_local'
SAFETY_DOC = 'docs/safety.md'

# HistoryBuffer pickles its statistics methods as getattr(HistoryBuffer,
# 'min'); these are the ones mmengine registers itself.
_HISTORY_BUFFER_STATISTICS = ('min', 'max', 'mean', 'current')


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs more than tensors, plain containers and mmengine's
    logging objects to be unpickled, and was not named as trusted."""


def _history_buffer_getattr(obj, name):
    """``builtins.getattr`` as the loader allows it: only a statistics
    method of ``HistoryBuffer`` (any other getattr could reach code)."""
    from mmengine.logging import HistoryBuffer
    allowed = set(_HISTORY_BUFFER_STATISTICS) | set(
        HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported call: getattr(<{type(obj).__name__}>, {name!r}); only '
        f'getattr(HistoryBuffer, one of {sorted(allowed)}) is allowed')


def mmengine_safe_globals() -> List:
    """What mmengine's checkpoints need beyond torch's ``weights_only``
    defaults, in the form of ``torch.serialization.safe_globals``:
    ``HistoryBuffer``, numpy arrays, dtypes and scalars (written by numpy 1
    as ``numpy.core.*``, by numpy 2 as ``numpy._core.*``), and ``getattr``
    restricted to ``HistoryBuffer``'s statistics methods."""
    import numpy as np
    from mmengine.logging import HistoryBuffer
    core = np._core if hasattr(np, '_core') else np.core
    dtype_classes = {np.dtype} | {
        type(np.dtype(t)) for t in set(np.sctypeDict.values())}
    allowed = [HistoryBuffer, np.ndarray, *dtype_classes,
               (_history_buffer_getattr, 'builtins.getattr')]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        allowed += [(core.multiarray._reconstruct, f'{module}._reconstruct'),
                    (core.multiarray.scalar, f'{module}.scalar')]
    return allowed


# torch.serialization.safe_globals takes (object, 'module.name') pairs,
# needed for the restricted getattr, from torch 2.6 on.
_SELECTIVE = digit_version(torch.__version__) >= digit_version('2.6.0')


@contextmanager
def _allow_mmengine_objects():
    if not _SELECTIVE:  # tensors and plain containers only
        yield
        return
    # Only what is not allowed yet: leaving the context removes what it
    # added, and an entry the user allowed for the whole process must stay.
    present = set(torch.serialization.get_safe_globals())
    missing = [g for g in mmengine_safe_globals() if g not in present]
    with torch.serialization.safe_globals(missing):
        yield


def trusted_checkpoints() -> List[str]:
    """The real paths (files or folders) listed in
    ``MMDET_SSSD_TRUSTED_CHECKPOINTS``, separated by ``os.pathsep``."""
    value = os.environ.get(TRUSTED_CHECKPOINTS_ENV, '')
    return [osp.realpath(osp.expanduser(p))
            for p in value.split(os.pathsep) if p.strip()]


def is_trusted(filename: str) -> bool:
    """Whether ``filename`` is, or lies in a folder, listed in
    ``MMDET_SSSD_TRUSTED_CHECKPOINTS``."""
    path = osp.realpath(filename)
    return any(path == p or path.startswith(p.rstrip(os.sep) + os.sep)
               for p in trusted_checkpoints())


def _refusal(filename: str, error: Exception) -> str:
    found = re.search(r'WeightsUnpickler error: (.*?)(?: Please use|\n|$)',
                      str(error))
    reason = found.group(1) if found else str(error).strip().splitlines()[0]
    old_torch = ('' if _SELECTIVE else
                 f' (torch {torch.__version__} cannot allow mmengine\'s '
                 f'objects selectively; torch >= 2.6 can)')
    return (
        f'refused to load the checkpoint {filename}: unpickling it needs '
        f'more than tensors, plain containers, numpy arrays and mmengine\'s '
        f'HistoryBuffer{old_torch}. {reason} Loading it could run code '
        f'stored in the file, so nothing of it was executed. If you trust '
        f'this file (you wrote it, or know where it comes from), allow it on '
        f'purpose: {TRUSTED_CHECKPOINTS_ENV}={osp.realpath(filename)} '
        f'(several files or folders separated by {os.pathsep!r}); see '
        f'{SAFETY_DOC} of mmdet_sssd')


def load_from_local_safely(filename: str, map_location=None) -> dict:
    """Loads a local checkpoint safely (mmengine's ``load_from_local``,
    restricted).

    Allowed: what ``torch.load(weights_only=True)`` allows plus
    :func:`mmengine_safe_globals`; a file listed in
    ``MMDET_SSSD_TRUSTED_CHECKPOINTS`` is loaded with full unpickling.

    Raises:
        FileNotFoundError: No such file.
        UntrustedCheckpointError: The file needs anything else.
    """
    filename = osp.expanduser(str(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if is_trusted(filename):
        print_log(
            f'{filename}: fully unpickled, as {TRUSTED_CHECKPOINTS_ENV} '
            f'trusts it', logger='current', level=logging.WARNING)
        return torch.load(
            filename, map_location=map_location, weights_only=False)
    try:
        with _allow_mmengine_objects():
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        raise UntrustedCheckpointError(_refusal(filename, e)) from None


def register_safe_local_loader() -> None:
    """Makes :func:`load_from_local_safely` mmengine's loader for local paths
    (``CheckpointLoader``: ``load_from``, ``--resume``, ``load_checkpoint``,
    testing). Done by ``import mmdet_sssd``."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend, writing atomically.

    ``put``/``put_text`` write to a temporary file in the target folder,
    ``fsync`` it and ``os.replace`` it onto the target: a crash while a
    checkpoint is being written leaves the previous file (or none) under the
    final name, never a truncated one.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        filepath = osp.abspath(str(filepath))
        mkdir_or_exist(osp.dirname(filepath))
        # Same folder (os.replace is atomic within a file system); 'xb'
        # gives the file the user's umask, like a plain open().
        tmp = osp.join(
            osp.dirname(filepath),
            f'.{osp.basename(filepath)}.{os.getpid()}.{uuid.uuid4().hex}.tmp')
        try:
            with open(tmp, 'xb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def register_atomic_backend() -> dict:
    """Registers :class:`AtomicLocalBackend` under its own name (no URI
    prefix: mmengine's ``local`` backend is left as it is) and returns the
    ``backend_args`` that select it, e.g. for ``save_checkpoint`` or a
    ``CheckpointHook``."""
    if backends.get(ATOMIC_BACKEND) is not AtomicLocalBackend:
        register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
    return dict(backend=ATOMIC_BACKEND)


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file (a zip archive whose
    central directory, written last, is present and lists ``data.pkl``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith('data.pkl')
                       for name in archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` should continue from.

    mmengine follows ``work_dir/last_checkpoint``. If that file is missing,
    empty or names a checkpoint that is gone or incomplete (a crash while it
    was written by another tool), the newest complete ``*.pth`` of the work
    dir is returned instead, with a warning; None if there is none.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    if named is not None and is_complete_checkpoint(named):
        return named
    candidates = sorted(
        (p for p in glob.glob(osp.join(work_dir, '*.pth'))
         if is_complete_checkpoint(p)),
        key=osp.getmtime)
    found = candidates[-1] if candidates else None
    if named is not None or (found and osp.isfile(pointer)):
        print_log(
            f'{pointer} names {named!r}, which is missing or incomplete; '
            f'resuming from {found!r} (the newest complete checkpoint) '
            f'instead', logger='current', level=logging.WARNING)
    return found
