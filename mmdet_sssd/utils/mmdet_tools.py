# Copyright (c) mmdet_sssd contributors. All rights reserved.
import os.path as osp
import runpy
import sys
from typing import List

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


def _cpu_distributed_fallback(argv: List[str]) -> List[str]:
    """mmengine's ``pytorch``/``slurm`` launchers call
    ``torch.cuda.set_device`` and wrap the model for one GPU; on a machine
    without CUDA they would fail. There, skip the device selection and run
    DDP on the CPU with gloo (options the user gives still win)."""
    import torch
    if torch.cuda.is_available() or '--launcher' not in argv:
        return argv
    launcher = argv[argv.index('--launcher') + 1]
    if launcher == 'none':
        return argv
    print(f'[mmdet_sssd] no CUDA: distributed ({launcher}) run on the CPU '
          f'with gloo', file=sys.stderr)
    torch.cuda.set_device = lambda device: None
    argv = list(argv)
    if '--cfg-options' in argv:
        i = argv.index('--cfg-options') + 1
        return argv[:i] + CPU_DIST_OPTIONS + argv[i:]
    return argv + ['--cfg-options'] + CPU_DIST_OPTIONS


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
    sys.argv = [script] + _cpu_distributed_fallback(sys.argv[1:])
    runpy.run_path(script, run_name='__main__')
