# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""Checkpoint loading after ``import mmdet_sssd``: what torch's
``weights_only`` unpickler refuses stays refused, except exactly the objects
mmengine's own checkpoints need; a file one trusts loads on purpose."""
import copy
import os
import os.path as osp
import pickle
import subprocess
import sys
import functools
from collections import Counter, OrderedDict, defaultdict

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner import CheckpointLoader, load_checkpoint, save_checkpoint
from mmengine.runner.checkpoint import _load_checkpoint

import mmdet_sssd  # noqa: F401  (registers the safe local loader)
from mmdet_sssd.testing import tiny_detector_cfg
from mmdet_sssd.utils import (TRUSTED_CHECKPOINTS_ENV,
                              UntrustedCheckpointError, load_from_local_safely)

register_all_modules()
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RETINANET = 'retinanet/retinanet_r50_fpn_1x_coco.py'


class OpensAFile:
    """A pickle that creates a file when it is loaded (the issue's case)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


class RunsACommand:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f'touch {self.path}', )


class Getattr:
    """``getattr(obj, name)`` at load time."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


class Legacy:
    """An object of a class of its own, as in old pickled checkpoints."""

    def __init__(self, value):
        self.value = value


@pytest.fixture(autouse=True)
def no_trusted(monkeypatch):
    monkeypatch.delenv(TRUSTED_CHECKPOINTS_ENV, raising=False)


def save(obj, path, legacy=False):
    torch.save(obj, str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


def mmengine_checkpoint(path):
    """What mmengine's Runner writes besides the weights: the message hub
    (HistoryBuffers of numpy values) and numpy scalars in the meta."""
    hub = MessageHub.get_instance('test_safe_loading')
    for i in range(3):
        hub.update_scalar('train/loss', float(i) + 0.5)
        hub.update_scalar('train/lr', np.float64(0.01))
    hub.update_info('iter', 3)
    state = dict(
        meta=dict(epoch=1, iter=3, seed=np.int64(7), cfg='model = dict()',
                  dataset_meta=dict(classes=('a', 'b'),
                                    palette=[(1, 2, 3), (4, 5, 6)])),
        state_dict=OrderedDict(w=torch.randn(2, 3)),
        message_hub=hub.state_dict(),
        param_schedulers=[dict(milestones=Counter([2, 3]), by_epoch=True)])
    save_checkpoint(state, str(path))
    return str(path)


# --- what is refused ------------------------------------------------------

MALICIOUS = {
    'open': lambda marker: {'meta': OpensAFile(marker)},
    'os.system': lambda marker: {'meta': RunsACommand(marker)},
    'in a state_dict': lambda marker: {
        'state_dict': OrderedDict(w=torch.ones(1), x=OpensAFile(marker))},
    'in a numpy object array': lambda marker: {
        'meta': np.array([OpensAFile(marker)], dtype=object)},
}


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('name', list(MALICIOUS))
def test_code_in_the_pickle_is_refused_and_does_not_run(tmp_path, name,
                                                        legacy):
    marker = str(tmp_path / 'marker')
    path = save(MALICIOUS[name](marker), tmp_path / 'evil.pth', legacy)
    loads = [
        lambda: CheckpointLoader.load_checkpoint(path),
        lambda: _load_checkpoint(path, map_location='cpu'),
        lambda: load_checkpoint(torch.nn.Linear(1, 1), path),
    ]
    for load in loads:
        with pytest.raises(UntrustedCheckpointError) as error:
            load()
        assert not osp.exists(marker)
    message = str(error.value)
    # what was refused, why, and how to load a file one trusts
    assert f'refused to load the checkpoint {path}' in message
    assert 'could run code' in message
    assert f'{TRUSTED_CHECKPOINTS_ENV}={osp.realpath(path)}' in message
    assert 'docs/safety.md' in message


@pytest.mark.parametrize('obj, name', [
    (HistoryBuffer, 'update'), (HistoryBuffer, '__init__'),
    (HistoryBuffer, '__class__'), (np.ndarray, 'tofile'),
    (OrderedDict, 'fromkeys')
])
def test_getattr_only_reaches_history_buffer_statistics(tmp_path, obj, name):
    path = save({'meta': Getattr(obj, name)}, tmp_path / 'getattr.pth')
    with pytest.raises(UntrustedCheckpointError, match='getattr'):
        CheckpointLoader.load_checkpoint(path)


def test_refuses_whatever_plain_torch_refuses(tmp_path):
    """Each of these is refused by ``torch.load(weights_only=True)``; none is
    one of mmengine's objects, so the plugin's loader refuses it too."""
    marker = str(tmp_path / 'marker')
    cases = {
        'custom class': {'meta': Legacy(1)},
        'functools.partial': {'f': functools.partial(print)},
        'numpy Generator': {'rng': np.random.default_rng(0)},
        'defaultdict': {'d': defaultdict(list)},
        'builtin function': {'f': len},
        'open': {'f': OpensAFile(marker)},
        'getattr escape': {'f': Getattr(HistoryBuffer, 'update')},
    }
    for name, obj in cases.items():
        path = save(obj, tmp_path / f'{name}.pth')
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)
        with pytest.raises(UntrustedCheckpointError):
            load_from_local_safely(path)
    assert not osp.exists(marker)


# --- what loads -----------------------------------------------------------


def test_mmengine_checkpoint_loads_without_environment_variables(tmp_path):
    path = mmengine_checkpoint(tmp_path / 'epoch_1.pth')
    # everything mmengine's checkpoints need beyond torch's defaults
    assert set(torch.serialization.get_unsafe_globals_in_checkpoint(path)) \
        == {'mmengine.logging.history_buffer.HistoryBuffer',
            'builtins.getattr', 'numpy.ndarray', 'numpy.dtype',
            'numpy._core.multiarray._reconstruct',
            'numpy._core.multiarray.scalar'}
    # plain torch >= 2.6 refuses it (the reason for the plugin's loader)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
    expected = torch.load(path, weights_only=False)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert ckpt['meta']['seed'] == 7
    torch.testing.assert_close(ckpt['state_dict']['w'],
                               expected['state_dict']['w'])
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer)
    assert loss.mean() == pytest.approx(1.5)
    assert loss.statistics('current') == pytest.approx(2.5)
    ref = expected['message_hub']['log_scalars']['train/loss']
    np.testing.assert_array_equal(loss.data[0], ref.data[0])
    # a message hub restored from it works as after mmengine's own load
    hub = MessageHub.get_instance('test_safe_loading_restored')
    hub.load_state_dict(ckpt['message_hub'])
    assert hub.get_scalar('train/loss').current() == pytest.approx(2.5)


def test_numpy_1_names_load(tmp_path):
    """Checkpoints written with numpy 1 name ``numpy.core.multiarray``."""
    path = mmengine_checkpoint(tmp_path / 'numpy2.pth')
    ckpt = torch.load(path, weights_only=False)
    legacy = save(ckpt, tmp_path / 'legacy.pth', legacy=True)
    with open(legacy, 'rb') as f:
        data = f.read()
    assert b'numpy._core.multiarray' in data
    with open(legacy, 'wb') as f:
        f.write(data.replace(b'numpy._core.multiarray',
                             b'numpy.core.multiarray'))
    loaded = CheckpointLoader.load_checkpoint(legacy)
    assert loaded['meta']['seed'] == 7
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == \
        pytest.approx(1.5)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
def test_stock_mmdet_checkpoint_loads(tmp_path, legacy):
    """A model-zoo style checkpoint: weights and a meta of plain values (as
    mmdet 2.x and 3.x publish them), strict into the same detector."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_detector_cfg(RETINANET, num_classes=3))
    meta = dict(mmdet_version='3.3.0', mmcv_version='2.1.0',
                CLASSES=('a', 'b', 'c'), epoch=12, iter=1000,
                config='model = dict(type="RetinaNet")', time='x',
                hook_msgs=dict(last_ckpt='epoch_12.pth'))
    path = save(dict(state_dict=model.state_dict(), meta=meta),
                tmp_path / 'zoo.pth', legacy)
    other = MODELS.build(tiny_detector_cfg(RETINANET, num_classes=3))
    ckpt = load_checkpoint(other, path, map_location='cpu', strict=True)
    assert ckpt['meta']['CLASSES'] == ('a', 'b', 'c')
    for key, value in model.state_dict().items():
        torch.testing.assert_close(other.state_dict()[key], value)


# --- the opt-in -----------------------------------------------------------


def test_trusted_file_or_folder_loads_a_legacy_pickle(tmp_path, monkeypatch):
    (tmp_path / 'old').mkdir()
    path = save({'meta': Legacy(3), 'state_dict': {'w': torch.ones(2)}},
                tmp_path / 'old' / 'legacy.pth', legacy=True)
    with pytest.raises(UntrustedCheckpointError):
        CheckpointLoader.load_checkpoint(path)
    for trusted in (path, str(tmp_path / 'old'),
                    os.pathsep.join(['/elsewhere', str(tmp_path / 'old')])):
        monkeypatch.setenv(TRUSTED_CHECKPOINTS_ENV, trusted)
        ckpt = CheckpointLoader.load_checkpoint(path)
        assert isinstance(ckpt['meta'], Legacy) and ckpt['meta'].value == 3
    # a sibling folder whose name starts the same is not trusted
    monkeypatch.setenv(TRUSTED_CHECKPOINTS_ENV, str(tmp_path / 'ol'))
    with pytest.raises(UntrustedCheckpointError):
        CheckpointLoader.load_checkpoint(path)


# --- the pretrained teacher -----------------------------------------------


def test_pretrained_teacher_checkpoint_is_loaded_safely(tmp_path):
    marker = str(tmp_path / 'marker')
    teacher = tiny_detector_cfg(RETINANET, num_classes=3)
    path = save({'state_dict': OpensAFile(marker)}, tmp_path / 'teacher.pth')
    with pytest.raises(UntrustedCheckpointError,
                       match='pretrained_teacher.checkpoint'):
        MODELS.build(dict(
            type='SSSDDistiller',
            detector=tiny_detector_cfg(RETINANET, num_classes=3),
            pretrained_teacher=dict(config=copy.deepcopy(teacher),
                                    checkpoint=path)))
    assert not osp.exists(marker)


# --- nothing else changes on import ---------------------------------------

FRESH = r'''
import torch, mmengine.fileio as fileio
from mmengine.fileio import FileClient
from mmengine.fileio.backends import backends, prefix_to_backends
from mmengine.runner import CheckpointLoader
import mmdet  # (mmdet's own import is not the plugin's doing)

def snapshot():
    return dict(backends=dict(backends),
                prefixes=dict(prefix_to_backends),
                client=dict(FileClient._backends),
                client_prefixes=dict(FileClient._prefix_to_backends),
                schemes=dict(CheckpointLoader._schemes),
                load=torch.load, set_device=torch.cuda.set_device,
                sync_bn=torch.nn.SyncBatchNorm.forward,
                safe_globals=list(torch.serialization.get_safe_globals()))

before = snapshot()
import mmdet_sssd
from mmdet_sssd.utils import load_from_local_safely
after = snapshot()
for key in before:
    if key == 'schemes':
        continue
    assert before[key] == after[key], (key, before[key], after[key])
changed = {k for k in before['schemes']
           if before['schemes'][k] is not after['schemes'].get(k)}
assert changed == {''}, changed
assert set(after['schemes']) == set(before['schemes'])
assert after['schemes'][''] is load_from_local_safely
# a load leaves torch's allowlist as it was
torch.save({'w': torch.ones(1)}, PATH)
CheckpointLoader.load_checkpoint(PATH)
assert set(torch.serialization.get_safe_globals()) == \
    set(before['safe_globals'])
print('unchanged')
'''


def test_import_changes_only_the_local_checkpoint_loader(tmp_path):
    code = FRESH.replace('PATH', repr(str(tmp_path / 'w.pth')))
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop(TRUSTED_CHECKPOINTS_ENV, None)
    proc = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'unchanged' in proc.stdout


def test_torch_allowlist_is_left_as_it_was(tmp_path):
    """After a load through the plugin, plain ``torch.load`` still refuses
    mmengine's objects, and what the user allowed process-wide stays."""
    path = mmengine_checkpoint(tmp_path / 'c.pth')
    with torch.serialization.safe_globals([np.ndarray]):  # the user's
        CheckpointLoader.load_checkpoint(path)
        assert np.ndarray in torch.serialization.get_safe_globals()
        assert HistoryBuffer not in torch.serialization.get_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
