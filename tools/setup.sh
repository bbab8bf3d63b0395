#!/usr/bin/env bash
# One-command setup of mmdet_sssd and its OpenMMLab stack into the current
# Python environment (activate a virtualenv/conda env first if you want one).
#
#   bash tools/setup.sh            # stack + plugin + demo extras + test tools
#   PYTHON=/path/to/python bash tools/setup.sh
#
# It installs the versions verified together, pinned in
# requirements/verified.txt (the package accepts the ranges of
# requirements/runtime.txt). What it does, in order (every step is skipped
# when already satisfied, so a second run takes seconds):
#   1. setuptools>=77,<82, wheel, ninja      (mmcv's setup.py needs pkg_resources)
#   2. torch, only if missing                (TORCH_SPEC, default the verified one)
#   3. mmengine
#   4. mmcv WITH its C++ ops                 (a wheel from PIP_FIND_LINKS if one
#                                             matches, else built from source with
#                                             --no-build-isolation, ~10 min/2 cores)
#   5. mmdet, pycocotools
#   6. openmim 0.3.9 without its setuptools-downgrading dependencies
#   7. the plugin itself, scikit-learn/matplotlib, pytest
#   8. removes torchvision if anything pulled it in, then checks the result.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$(command -v python || command -v python3)}"
PIP=("$PY" -m pip install --disable-pip-version-check)
REQ="$ROOT/requirements"
# The verified pin of a package, e.g. `pin mmcv` -> mmcv==2.1.0
pin() { grep -E "^$1==" "$REQ/verified.txt" | head -n1 | tr -d '[:space:]'; }
TORCH_SPEC="${TORCH_SPEC:-$(pin torch)}"
MMENGINE="$(pin mmengine)"; MMCV="$(pin mmcv)"; MMDET="$(pin mmdet)"
[ -n "$TORCH_SPEC" ] && [ -n "$MMENGINE" ] && [ -n "$MMCV" ] && [ -n "$MMDET" ] ||
    { echo "[setup] requirements/verified.txt lacks a torch/mmengine/mmcv/mmdet pin" >&2; exit 1; }

step() { printf '\n[setup] %s\n' "$*"; }
fail() { printf '\n[setup] FAILED: %s\n' "$*" >&2; exit 1; }
has() { "$PY" - "$@" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
from packaging.requirements import Requirement
for spec in sys.argv[1:]:
    req = Requirement(spec)
    assert req.specifier.contains(version(req.name), prereleases=True), spec
EOF
}

step "python: $PY ($("$PY" --version 2>&1))"
"$PY" -c 'import sys; assert sys.version_info >= (3, 8)' ||
    fail "Python >= 3.8 is required"

step "1/8 build tools"
has 'setuptools>=77,<82' wheel ninja packaging ||
    "${PIP[@]}" -q -r "$REQ/build.txt" packaging ||
    fail "could not install build tools (setuptools>=77,<82, wheel, ninja)"

step "2/8 torch"
if "$PY" -c 'import torch' >/dev/null 2>&1; then
    echo "torch $("$PY" -c 'import torch; print(torch.__version__)') already installed: kept"
    has "$(grep -E '^torch' "$REQ/runtime.txt" | head -n1)" ||
        echo "note: it is older than the oldest torch tested with mmdet_sssd ($(grep -E '^torch' "$REQ/runtime.txt" | head -n1))"
else
    "${PIP[@]}" -q "$TORCH_SPEC" || fail "could not install $TORCH_SPEC (set TORCH_SPEC)"
fi

step "3/8 $MMENGINE"
has "$MMENGINE" || "${PIP[@]}" -q "$MMENGINE" || fail "$MMENGINE"

step "4/8 $MMCV with ops"
if has "$MMCV" && "$PY" -c 'import mmcv.ops' >/dev/null 2>&1; then
    echo "$MMCV with ops already installed"
else
    # mmcv-lite or an ops-less build must go, or pip keeps it.
    "$PY" -m pip uninstall -y -q mmcv mmcv-lite >/dev/null 2>&1 || true
    # No build isolation: the ops are compiled against the installed torch.
    # PIP_FIND_LINKS (e.g. ../shared/wheels) is honoured: a matching wheel wins.
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc 2>/dev/null || echo 2)}" \
        "${PIP[@]}" --no-build-isolation "$MMCV" ||
        fail "$MMCV build failed (see the compiler output above)"
    "$PY" -c 'import mmcv.ops' ||
        fail "mmcv installed but 'import mmcv.ops' fails: it was built without ops or for another torch; remove it (pip uninstall mmcv) and rerun"
fi

step "5/8 $MMDET"
# Not `-r runtime.txt`: its torch range could replace a torch kept in step 2.
has "$MMDET" 'pycocotools>=2.0.7' || "${PIP[@]}" -q "$MMDET" 'pycocotools>=2.0.7' ||
    fail "$MMDET / pycocotools"

step "6/8 openmim"
has 'openmim==0.3.9' click colorama model-index pandas requests rich tabulate || {
    "${PIP[@]}" -q --no-deps 'openmim==0.3.9' &&
        "${PIP[@]}" -q click colorama model-index pandas requests rich tabulate
} || fail "openmim"

step "7/8 mmdet_sssd, demo extras, test tools"
# A regular (not editable) install: `mim train mmdet_sssd` looks for
# <site-packages>/mmdet_sssd/.mim/{tools,configs}, which setup.py copies into
# the wheel; PEP 660 editable installs have no such folder. Always reinstalled,
# so rerunning this script picks up local changes (a few seconds).
"${PIP[@]}" -q --no-deps --no-build-isolation --force-reinstall "$ROOT" ||
    fail "installing the plugin"
has 'scikit-learn>=1.3' 'matplotlib>=3.7' 'pytest>=7' ||
    "${PIP[@]}" -q -r "$REQ/optional.txt" -r "$REQ/tests.txt" ||
    fail "scikit-learn / matplotlib / pytest"

step "8/8 checks"
if "$PY" -m pip show -q torchvision >/dev/null 2>&1 && ! "$PY" -c 'import torchvision' >/dev/null 2>&1; then
    echo "removing torchvision: it does not import with this torch and mmdet does not need it"
    "$PY" -m pip uninstall -y -q torchvision
fi
has 'setuptools>=77,<82' || "${PIP[@]}" -q 'setuptools>=77,<82'
"$PY" - <<'EOF' || fail "the checks above"
import torch, mmengine, mmcv, mmdet
import mmcv.ops  # noqa: F401  (NMS, RoIAlign, sigmoid focal loss)
import mmdet_sssd  # noqa: F401
from mmdet.registry import HOOKS, MODELS
missing = [n for n, reg in [('SSSDDistiller', MODELS), ('LabelEncoderTeacher', MODELS),
                            ('JSDistanceLoss', MODELS), ('AdaptiveDistillCoefHook', HOOKS)]
           if reg.get(n) is None]
assert not missing, f'not registered in mmdet: {missing}'
print(f'torch {torch.__version__} | mmengine {mmengine.__version__} | mmcv {mmcv.__version__} (ops) '
      f'| mmdet {mmdet.__version__} | mmdet_sssd {mmdet_sssd.__version__}: OK')
EOF
"$PY" -m mim --version >/dev/null 2>&1 || command -v mim >/dev/null || fail "mim is not runnable"
step "done"
