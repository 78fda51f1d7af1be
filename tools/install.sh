#!/usr/bin/env bash
# Install mmavs and its pinned CPU OpenMMLab stack into a virtual environment (idempotent).
#
#   bash tools/install.sh            # venv at ./.venv (override: MMAVS_VENV=/path)
#
# Steps (each skipped when already done; a second run takes seconds):
#   1. the CPU torch 2.13.0 (pinned: an unpinned torch would make pip fetch a multi-GB CUDA build) and
#      every runtime dependency, at the versions of requirements/constraints.txt;
#   2. mmengine / mmsegmentation / mmpretrain with --no-deps (they declare the GUI `opencv-python`,
#      which would fight opencv-python-headless over site-packages/cv2);
#   3. full mmcv 2.1.0 with its compiled CPU ops, built once from the registry's sdist (~8 min on
#      2 cores) and kept in a wheel cache (MMAVS_WHEEL_CACHE, default ~/.cache/mmavs/wheels), so
#      later installs reuse it;
#   4. tools/misc/patch_torchvision.py, only if the CUDA-built torchvision wheel fails to import;
#   5. mmavs itself, editable.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMAVS_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION=2.1.0
TORCH_VERSION=2.13.0+cpu
log() { printf '[mmavs install] %s\n' "$*"; }
start=$(date +%s)

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  log "Python 3.11 is required (the CPU torch 2.13.0 wheel is cp311); found: $("$PYTHON" --version 2>&1)"
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
export PIP_PROGRESS_BAR=off

# A stamp of every file that decides what is installed: unchanged stamp -> nothing to do for 1-2.
stamp_file="$VENV/.mmavs-install-stamp"
stamp=$(cat "$REPO"/requirements/*.txt "$REPO/setup.py" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
  log "installing torch $TORCH_VERSION and runtime dependencies"
  "${PIP[@]}" install -q -r "$REPO/requirements/runtime.txt" -r "$REPO/requirements/tests.txt" \
    -c "$REPO/requirements/constraints.txt"
  log "installing mmengine, mmsegmentation, mmpretrain (--no-deps)"
  "${PIP[@]}" install -q --no-deps -r "$REPO/requirements/openmmlab.txt"
fi

# Full mmcv with compiled ops. The wheel is only valid for this torch build and Python tag.
if ! "$PY" -c "import mmcv, mmcv.ops, importlib.util as u, sys; \
sys.exit(mmcv.__version__ != '$MMCV_VERSION' or u.find_spec('mmcv._ext').origin.endswith('.py'))" 2>/dev/null; then
  cache="${MMAVS_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmavs/wheels}/torch-$TORCH_VERSION-cp311"
  wheel=$(ls "$cache"/mmcv-$MMCV_VERSION-cp311-cp311-*.whl 2>/dev/null | head -n 1 || true)
  if [ -z "$wheel" ]; then
    log "building mmcv $MMCV_VERSION with CPU ops from source (once; about 8 minutes on 2 cores)"
    "${PIP[@]}" install -q ninja psutil
    build_dir=$(mktemp -d)
    # --no-build-isolation: mmcv's setup.py imports torch and pkg_resources (setuptools < 81).
    MMCV_WITH_OPS=1 MAX_JOBS="$(nproc)" "${PIP[@]}" wheel -q --no-build-isolation --no-deps \
      "mmcv==$MMCV_VERSION" -w "$build_dir"
    mkdir -p "$cache"
    built=$(ls "$build_dir"/mmcv-$MMCV_VERSION-*.whl)
    cp "$built" "$cache/.partial.whl" && mv "$cache/.partial.whl" "$cache/$(basename "$built")"
    rm -rf "$build_dir"
    wheel="$cache/$(basename "$built")"
  else
    log "reusing cached mmcv wheel $wheel"
  fi
  "${PIP[@]}" uninstall -q -y mmcv-lite mmcv >/dev/null 2>&1 || true
  "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
fi

"$PY" "$REPO/tools/misc/patch_torchvision.py" >/dev/null

if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
  log "installing mmavs (editable)"
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e "$REPO"
  echo "$stamp" > "$stamp_file"
fi

"$PY" -c "import mmavs, mmseg, mmcv.ops, mmpretrain; print('[mmavs install] ok: mmavs', mmavs.__version__, \
'| mmseg', mmseg.__version__, '| mmcv', mmcv.__version__, '| mmpretrain', mmpretrain.__version__)"
log "done in $(( $(date +%s) - start )) s; activate with: source $VENV/bin/activate"
