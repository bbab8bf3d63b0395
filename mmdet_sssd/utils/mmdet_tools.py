# Copyright (c) mmdet_sssd contributors. All rights reserved.
import os.path as osp
import runpy
import sys


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
    sys.argv[0] = script
    runpy.run_path(script, run_name='__main__')
