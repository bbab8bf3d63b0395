# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""mmdet's tools/test.py with mmdet_sssd's components registered.

Usage and options are mmdet's: `python tools/test.py -h`. Like mmdet's
tools, it imports the installed mmdet_sssd (`bash tools/setup.sh`), or
the checkout's with `PYTHONPATH=.` (as `tools/dist_test.sh` sets it).
"""
from mmdet_sssd.utils import run_mmdet_tool

if __name__ == '__main__':
    run_mmdet_tool('test.py')
