# Copyright (c) mmdet_sssd contributors. All rights reserved.
import logging
import os
import os.path as osp
import runpy
import sys
from typing import Dict, List

import torch
import torch.distributed as dist

# Distributed training without CUDA: gloo, and DDP over CPU modules (which
# takes no device_ids). Unused parameters are allowed, as during the
# backbone freeze.
CPU_DIST_OPTIONS = [
    'env_cfg.dist_cfg.backend=gloo',
    'model_wrapper_cfg.type=MMDistributedDataParallel',
    'model_wrapper_cfg.device_ids=None',
    'model_wrapper_cfg.broadcast_buffers=False',
    'model_wrapper_cfg.find_unused_parameters=True',
]


def _cpu_sync_batch_norm(bn: torch.nn.SyncBatchNorm,
                         x: torch.Tensor) -> torch.Tensor:
    """``SyncBatchNorm.forward`` for CPU tensors (torch's needs a GPU): the
    batch statistics are all-reduced over the processes with a
    differentiable all-reduce, as torch's CUDA kernel does."""
    if not (bn.training and dist.is_initialized()
            and dist.get_world_size() > 1):
        return _TORCH_SYNC_BN_FORWARD(bn, x)
    c, dims = x.size(1), [0] + list(range(2, x.dim()))
    count = x.new_full((1, ), x.numel() / c)
    stats = torch.cat([x.sum(dims), (x * x).sum(dims), count])
    stats = dist.nn.functional.all_reduce(stats)
    n = stats[-1]
    mean = stats[:c] / n
    var = stats[c:2 * c] / n - mean * mean
    if bn.track_running_stats:
        with torch.no_grad():
            bn.num_batches_tracked += 1
            momentum = (1 / bn.num_batches_tracked.item()
                        if bn.momentum is None else bn.momentum)
            bn.running_mean.lerp_(mean, momentum)
            bn.running_var.lerp_(var * n / (n - 1).clamp(min=1), momentum)
    shape = (1, c) + (1, ) * (x.dim() - 2)
    out = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + bn.eps)
    if bn.affine:
        out = out * bn.weight.view(shape) + bn.bias.view(shape)
    return out


_TORCH_SYNC_BN_FORWARD = torch.nn.SyncBatchNorm.forward


def _cpu_distributed_fallback(argv: List[str]) -> List[str]:
    """mmengine's ``pytorch``/``slurm`` launchers call
    ``torch.cuda.set_device`` and wrap the model for one GPU, and torch's
    SyncBN needs a GPU; on a machine without CUDA they would fail. There,
    skip the device selection, run DDP on the CPU with gloo (options the
    user gives still win) and SyncBN with a CPU all-reduce."""
    if torch.cuda.is_available() or '--launcher' not in argv:
        return argv
    launcher = argv[argv.index('--launcher') + 1]
    if launcher == 'none':
        return argv
    print(f'[mmdet_sssd] no CUDA: distributed ({launcher}) run on the CPU '
          f'with gloo', file=sys.stderr)
    torch.cuda.set_device = lambda device: None
    torch.nn.SyncBatchNorm.forward = _cpu_sync_batch_norm
    # DDP refuses SyncBatchNorm in CPU modules; the forward above handles it.
    torch.nn.parallel.DistributedDataParallel.\
        _passing_sync_batchnorm_handle = lambda self, module: None
    argv = list(argv)
    if '--cfg-options' in argv:
        i = argv.index('--cfg-options') + 1
        return argv[:i] + CPU_DIST_OPTIONS + argv[i:]
    return argv + ['--cfg-options'] + CPU_DIST_OPTIONS


def package_root() -> str:
    """The folder that holds the imported ``mmdet_sssd`` package: the
    checkout's root, or ``site-packages`` for a regular install."""
    import mmdet_sssd
    return osp.dirname(osp.dirname(osp.abspath(mmdet_sssd.__file__)))


def tools_dir() -> str:
    """The plugin's ``tools/``: the checkout's beside the package, else the
    copy a regular install keeps in ``mmdet_sssd/.mim/tools``."""
    checkout = osp.join(package_root(), 'tools')
    # (a folder named tools beside an installed package may be another's)
    if osp.isfile(osp.join(checkout, 'digits_benchmark.py')):
        return checkout
    return osp.join(package_root(), 'mmdet_sssd', '.mim', 'tools')


def tools_env(**variables: str) -> Dict[str, str]:
    """This process's environment for a tool started as a subprocess, with
    ``variables`` set: the folder of the ``mmdet_sssd`` imported here comes
    first in ``PYTHONPATH`` (as mmdet's ``dist_train.sh`` puts its
    checkout), so that the child runs the same code as its parent, not
    another installed copy."""
    paths = [package_root()] + [
        p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        dict.fromkeys(paths)), **variables)


def run_mmdet_tool(name: str) -> None:
    """Run one of mmdet's own scripts (``tools/<name>``) in this process with
    mmdet_sssd's components registered, so every mmdet option
    (``--cfg-options``, ``--resume``, ``--amp``, ``--launcher``...) works
    unchanged.
    """
    import mmdet

    import mmdet_sssd  # noqa: F401  (registers the components)
    script = osp.join(osp.dirname(mmdet.__file__), '.mim', 'tools', name)
    if not osp.isfile(script):
        raise FileNotFoundError(
            f'mmdet\'s {name} is not at {script}; install mmdet from its '
            f'wheel (pip install mmdet==3.3.0), which ships its tools')
    argv = _cpu_distributed_fallback(sys.argv[1:])
    sys.argv = [script] + argv
    try:
        runpy.run_path(script, run_name='__main__')
    except ValueError as e:
        if _raised_in(e, '_serialize_data'):
            raise ValueError(
                'a dataset has no samples (mmengine cannot serialize an empty '
                'dataset): every image was filtered out or none was found. '
                'Check ann_file, data_root/data_prefix and metainfo.classes, '
                'or set filter_cfg.filter_empty_gt=False if every image is '
                'meant to be background') from e
        raise
    if dist.is_available() and dist.is_initialized():
        gloo = dist.get_backend() == 'gloo'
        dist.barrier()  # no rank tears its group down while another talks
        dist.destroy_process_group()
        if gloo:
            _exit_without_teardown()


def _exit_without_teardown() -> None:
    """End a finished gloo rank with status 0, skipping the interpreter's
    teardown: there a rank could still abort ("terminate called without an
    active exception", seen in CI after the work was done, with the group
    destroyed). Logs and streams are flushed and closed first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _raised_in(error: BaseException, function: str) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == function:
            return True
        tb = tb.tb_next
    return False
