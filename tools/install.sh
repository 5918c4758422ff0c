#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv.
#
# Every pip call is constrained by requirements/constraints.txt so nothing can
# replace the pinned torch build. mmpose is installed without dependencies
# (it declares chumpy, which does not build with current pip and is never
# imported); its real runtime dependencies are in requirements/runtime.txt.
#
# Environment variables:
#   VENV            venv folder (default .venv)
#   PYTHON          interpreter that creates it (default python3)
#   TORCH_INDEX_URL extra index for torch/torchvision (e.g. a CUDA wheel index)
#   MMPPM_NO_BROWSER=1  skip Debian's chromium + chromium-driver (only the
#                   web page's browser test needs them; it then skips)
#   MMPPM_MIN_FREE_GB   free disk asked for before a new venv is made
#                   (default 7: the venv is 6.4 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
C=requirements/constraints.txt

start=$(date +%s)
# Disk first: a full disk otherwise fails deep inside pip, half installed.
free_gb() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }
if [ ! -x "$VENV/bin/python" ]; then
  need=${MMPPM_MIN_FREE_GB:-7}
  for dir in "$(dirname "$(realpath -m "$VENV")")" "${TMPDIR:-/tmp}"; do
    have=$(free_gb "$dir")
    if [ "$have" -lt "$need" ]; then
      echo "install: only $have GiB free on the disk of $dir; the venv needs about $need GiB (torch, mmpose, diffusers): free space there, or set VENV (venv folder) / TMPDIR (pip's unpacking) to a larger disk" >&2
      exit 1
    fi
  done
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$C")
# pip warns about every missing local index folder; keep the log readable.
filter() { grep -v "^WARNING: Location '" || true; }

"${PIP[@]}" "setuptools<81" wheel 2>&1 | filter
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  "${PIP[@]}" --extra-index-url "$TORCH_INDEX_URL" torch torchvision 2>&1 | filter
else
  "${PIP[@]}" torch torchvision 2>&1 | filter
fi
"${PIP[@]}" -r requirements/runtime.txt -r requirements/tests.txt -r requirements/lint.txt \
  -r requirements/webui.txt 2>&1 | filter
"${PIP[@]}" --no-deps mmpose 2>&1 | filter
"${PIP[@]}" --no-deps -e . 2>&1 | filter
# mmcv-lite: provide the stand-in mmcv._ext whatever the import order
# (mmppm/compat/mmcv_ext_stub.py, loaded by path at interpreter start).
SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
"$VENV/bin/python" mmppm/compat/mmcv_ext_stub.py --pth-line > "$SITE/mmppm_mmcv_ext_stub.pth"
"$VENV/bin/python" -c "import mmpose.models" || { echo "import mmpose.models failed"; exit 1; }
"$VENV/bin/python" -c "import mmppm, mmpose.models, diffusers, torchvision; print('mmppm', mmppm.__version__, 'installed')"
# Headless Chromium for tests/test_webui (Debian packages; needs root).
if [ -z "${MMPPM_NO_BROWSER:-}" ] && ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "installing Debian chromium + chromium-driver (web page test)"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; } > /tmp/mmppm_apt.log 2>&1 \
      || { echo "apt-get install chromium chromium-driver failed (log: /tmp/mmppm_apt.log)"; exit 1; }
  else
    echo "note: no chromium/chromedriver and no root apt-get: the web page's browser test will skip (install Debian chromium and chromium-driver to run it)"
  fi
fi
echo "install: $(( $(date +%s) - start )) s, venv size $(du -sh "$VENV" | cut -f1)"
