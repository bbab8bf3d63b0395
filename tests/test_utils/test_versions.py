# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The import-time check of the OpenMMLab versions."""
import os.path as osp

import pytest

from mmdet_sssd.utils import check_versions
from mmdet_sssd.utils.versions import (SUPPORTED, VERIFIED,
                                       installed_version, unsupported)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOOD = dict(mmengine='0.10.7', mmcv='2.1.0', mmdet='3.3.0')


def test_this_environment_is_supported():
    check_versions()
    assert unsupported({n: installed_version(n) for n in SUPPORTED}) is None


@pytest.mark.parametrize('name, version, expected', [
    ('mmcv', '2.2.0', 'mmcv 2.2.0 is installed, mmdet_sssd needs 2.0.0rc4 '
     '<= mmcv < 2.2.0'),
    ('mmcv', '1.7.2', 'mmcv 1.7.2 is installed'),
    ('mmdet', '3.2.0', 'needs 3.3.0 <= mmdet < 3.4.0'),
    ('mmdet', '2.28.2', 'mmdet 2.28.2 is installed'),
    ('mmengine', '0.9.1', 'needs 0.10.0 <= mmengine < 0.11.0'),
    ('mmdet', None, 'mmdet is not installed'),
])
def test_unsupported_versions_say_what_to_install(name, version, expected):
    message = unsupported(dict(GOOD, **{name: version}))
    assert expected in message
    assert 'tools/setup.sh' in message and 'mmcv==2.1.0' in message


@pytest.mark.parametrize('versions', [
    GOOD, dict(GOOD, mmcv='2.0.0rc4'), dict(GOOD, mmcv='2.1.1'),
    dict(GOOD, mmdet='3.3.1'), dict(GOOD, mmengine='0.10.0')
])
def test_supported_ranges(versions):
    assert unsupported(versions) is None


def test_verified_pins_are_in_the_ranges_and_requirements():
    assert unsupported(VERIFIED) is None
    with open(osp.join(ROOT, 'requirements', 'verified.txt')) as f:
        pins = dict(line.strip().split('==') for line in f
                    if '==' in line and not line.startswith('#'))
    for name, version in VERIFIED.items():
        assert pins[name] == version, name
    with open(osp.join(ROOT, 'requirements', 'runtime.txt')) as f:
        runtime = f.read()
    for name, (low, high) in SUPPORTED.items():
        assert f'{name}>={low},<{high}' in runtime, name
