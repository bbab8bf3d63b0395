# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""mmdet's tools/test.py with mmdet_sssd's components registered.

Usage and options are mmdet's: `python tools/test.py -h`.
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmdet_sssd.utils import run_mmdet_tool  # noqa: E402

if __name__ == '__main__':
    run_mmdet_tool('test.py')
