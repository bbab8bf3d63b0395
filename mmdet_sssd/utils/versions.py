# Copyright (c) mmdet_sssd contributors. All rights reserved.
"""The OpenMMLab versions mmdet_sssd supports, checked at import."""
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from typing import Dict, Optional, Tuple

from mmengine.utils import digit_version

# name -> (lowest supported, first unsupported). mmcv's range is the one
# mmdet 3.3 accepts; the combination verified end to end is in
# requirements/verified.txt.
SUPPORTED: Dict[str, Tuple[str, str]] = {
    'mmengine': ('0.10.0', '0.11.0'),
    'mmcv': ('2.0.0rc4', '2.2.0'),
    'mmdet': ('3.3.0', '3.4.0'),
}
VERIFIED = {'mmengine': '0.10.7', 'mmcv': '2.1.0', 'mmdet': '3.3.0'}


def installed_version(name: str) -> Optional[str]:
    """The installed version of a package (its distribution's metadata, or
    ``<name>.__version__`` for a source tree on the path); None if absent.
    mmcv is looked up without importing it, mmdet too (mmdet's import
    asserts its own mmcv range)."""
    for dist in (name, f'{name}-full', f'{name}-lite'):
        try:
            return version(dist)
        except PackageNotFoundError:
            pass
    try:
        return import_module(f'{name}.version').__version__
    except ImportError:
        return None


def unsupported(versions: Dict[str, Optional[str]]) -> Optional[str]:
    """Why ``versions`` (name -> version or None) is not a supported
    combination, with what to install; None if it is."""
    problems = []
    for name, (low, high) in SUPPORTED.items():
        found = versions.get(name)
        if found is None:
            problems.append(f'{name} is not installed')
        elif not (digit_version(low) <= digit_version(found) <
                  digit_version(high)):
            problems.append(f'{name} {found} is installed, mmdet_sssd '
                            f'needs {low} <= {name} < {high}')
    if not problems:
        return None
    pins = ' '.join(f'{n}=={v}' for n, v in VERIFIED.items())
    return ('; '.join(problems) + '. Install the verified combination: '
            f'`bash tools/setup.sh` of mmdet_sssd, or {pins} (mmcv built '
            f'with its C++ ops for your torch: MMCV_WITH_OPS=1 pip install '
            f'--no-build-isolation mmcv==2.1.0)')


def check_versions() -> None:
    """Raises ImportError unless mmengine, mmcv and mmdet are in
    :data:`SUPPORTED` and mmcv has its C++ ops (mmdet needs them)."""
    message = unsupported({n: installed_version(n) for n in SUPPORTED})
    if message is None and find_spec('mmcv._ext') is None:
        message = ('mmcv is installed without its C++ ops (mmcv-lite, or '
                   'built without MMCV_WITH_OPS=1), and mmdet needs them. '
                   'Reinstall it: pip uninstall -y mmcv mmcv-lite && '
                   'MMCV_WITH_OPS=1 pip install --no-build-isolation '
                   'mmcv==2.1.0 (or `bash tools/setup.sh` of mmdet_sssd)')
    if message is not None:
        raise ImportError(f'mmdet_sssd: {message}')
