#!/usr/bin/env bash
# Run the GPU checks on an air-gapped node with the offline kit
# (tools/make_offline_kit.sh; docs/benchmark.md, "Offline GPU kit").
#
# Usage: bash tools/run_offline_kit.sh [options] KIT OUT
#   KIT  the kit folder (wheels + manifest.txt), e.g. offline_kit
#   OUT  the one folder every result goes to (created; copy it back)
# Options:
#   --only PART   bench (tools/analysis/gpu_benchmark.sh), toy
#                 (projects/toy_sd/tools/train_toy_sd.py) or tests (the project's test suite
#                 on the node's stack, PYTEST_ARGS); repeat or comma-separate;
#                 default: bench and toy
#   --smoke       a few steps of each (fits a 15-minute lease): SMOKE=1 for
#                 the benchmark, 50 + 50 toy iterations
#   --force       write into an existing non-empty OUT this script did not make
#   --keep-site   keep the temporary install folder (its path is printed)
#   --dry-run     check the arguments, print the plan, change nothing
# Environment:
#   PYTHON    the node's Python 3.12 with CUDA torch (default python3)
#   DEVICE    cuda (default) or cpu (a rehearsal without a GPU)
#   TOY_ARGS  toy iterations (default: the shipped model's command,
#             "--vae-iters 1500 --unet-iters 3000")
#   PYTEST_ARGS  what the tests part runs (default
#             "tests --ignore=tests/test_webui": no gradio in the kit)
#   TMPDIR    where the wheels are installed (a new folder, removed after)
#   and those of gpu_benchmark.sh (ARCH, INPUT_SIZE, STEPS, MEM_BATCHES, ...)
#
# The wheels go into a new temporary folder with
#   PYTHON -m pip install --no-index --no-deps --no-compile --target SITE KIT/*.whl
# and PYTHONPATH=SITE:REPO; a sitecustomize.py there processes SITE's .pth
# file (the mmcv._ext stand-in, as tools/install.sh installs it) and then the
# interpreter's own sitecustomize, if any. Nothing outside SITE and OUT is
# written except the random SD 1.5 folder the benchmark builds once
# (work_dirs/random_sd, or SD_CACHE). OUT gets: run.log (everything printed),
# env.txt, timings.txt, bench/ and toy/.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }

PARTS=() SMOKE=0 FORCE=0 KEEP=0 DRY=0 POS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --only) [ $# -ge 2 ] || die "--only needs a part (bench, toy)"
            IFS=, read -r -a more <<< "$2"; PARTS+=("${more[@]}"); shift ;;
    --only=*) IFS=, read -r -a more <<< "${1#--only=}"; PARTS+=("${more[@]}") ;;
    --smoke) SMOKE=1 ;;
    --force) FORCE=1 ;;
    --keep-site) KEEP=1 ;;
    --dry-run) DRY=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) POS+=("$1") ;;
  esac
  shift
done
[ ${#POS[@]} -eq 2 ] || { usage >&2; die "need KIT and OUT"; }
KIT=$(cd "${POS[0]}" 2> /dev/null && pwd) || die "no kit folder ${POS[0]}"
OUT=${POS[1]}
[ -f "$KIT/manifest.txt" ] || die "$KIT has no manifest.txt (build it with tools/make_offline_kit.sh)"
[ ${#PARTS[@]} -gt 0 ] || PARTS=(bench toy)
for p in "${PARTS[@]}"; do
  case "$p" in bench|toy|tests) ;; *) die "unknown part '$p' (bench, toy, tests)" ;; esac
done
has() { printf '%s\n' "${PARTS[@]}" | grep -qx "$1"; }
MARK=.mmppm_offline_kit_out
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/$MARK" ] \
    && [ "$FORCE" = 0 ]; then
  die "$OUT exists, is not empty and was not made by this script; choose another OUT or pass --force"
fi
[ -e "$OUT" ] && [ ! -d "$OUT" ] && die "$OUT is not a folder"
PYTHON=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
if [ "$SMOKE" = 1 ]; then
  TOY_ARGS=${TOY_ARGS:---vae-iters 50 --unet-iters 50}
else
  TOY_ARGS=${TOY_ARGS:---vae-iters 1500 --unet-iters 3000}
fi
PYTEST_ARGS=${PYTEST_ARGS:-tests --ignore=tests/test_webui}
if [ "$DRY" = 1 ]; then
  echo "kit:    $KIT ($(grep -c . "$KIT/manifest.txt") wheels)"
  echo "out:    $OUT"
  echo "python: $PYTHON   device: $DEVICE   smoke: $SMOKE"
  echo "parts:  ${PARTS[*]}"
  has bench && echo "bench:  SMOKE=$SMOKE DEVICE=$DEVICE PY=$PYTHON bash tools/analysis/gpu_benchmark.sh OUT/bench"
  has toy && echo "toy:    $PYTHON projects/toy_sd/tools/train_toy_sd.py $TOY_ARGS --work-dir OUT/toy/work --out OUT/toy/toy_sd"
  has tests && echo "tests:  $PYTHON -m pytest $PYTEST_ARGS (report OUT/tests/junit.xml)"
  exit 0
fi

mkdir -p "$OUT" && touch "$OUT/$MARK" || die "cannot write to $OUT"
OUT=$(cd "$OUT" && pwd)
exec > >(tee -a "$OUT/run.log") 2>&1
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}'; }
t0=$(now)
echo "== $(date -u +%FT%TZ) run_offline_kit: parts ${PARTS[*]}, smoke $SMOKE, device $DEVICE"
: > "$OUT/timings.txt"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmppm_kit_run.XXXXXX")
SITE=$WORK/site
if [ "$KEEP" = 1 ]; then echo "install folder (kept): $SITE"
else trap 'rm -rf "$WORK"' EXIT; fi

# -- the node: interpreter, what it brings, the kit's integrity
{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm)"
  "$PYTHON" -c 'import sys; print("python:", sys.version.split()[0], sys.executable)'
  case "$DEVICE" in
    cuda*) nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true ;;
  esac
  echo "kit: $KIT"
  "$PYTHON" -m pip list --disable-pip-version-check 2> /dev/null | sed 's/^/node: /'
} > "$OUT/env.txt"
cat "$OUT/env.txt" | grep -v '^node: '
"$PYTHON" - "$DEVICE" <<'EOF' || exit 1
import importlib, sys
if sys.version_info[:2] != (3, 12):
    sys.exit(f'error: the kit holds CPython 3.12 wheels; {sys.executable} '
             f'is {sys.version.split()[0]} (set PYTHON)')
need = ['torch', 'torchvision', 'numpy', 'transformers', 'accelerate',
        'safetensors', 'cv2', 'scipy', 'matplotlib', 'huggingface_hub', 'PIL',
        'yaml', 'rich', 'packaging', 'filelock', 'regex', 'tqdm', 'psutil']
missing = []
for name in need:
    try:
        importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 (report any import failure)
        missing.append(f'{name} ({type(e).__name__}: {e})')
if missing:
    sys.exit('error: the node lacks what the kit expects it to bring: '
             + '; '.join(missing))
import torch
if sys.argv[1].startswith('cuda') and not torch.cuda.is_available():
    sys.exit(f'error: torch {torch.__version__} sees no GPU (DEVICE=cpu '
             'for a rehearsal without one)')
EOF
(cd "$KIT" && awk '{print $3 "  " $1}' manifest.txt | sha256sum --quiet -c -) \
  || { echo "error: the kit's wheels do not match its manifest.txt"; exit 1; }

# -- install the wheels into SITE
t=$(now)
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-index \
    --no-deps --no-compile --target "$SITE" "$KIT"/*.whl \
  || { echo "error: pip install of the kit failed"; exit 1; }
"$PYTHON" "$REPO/mmppm/compat/mmcv_ext_stub.py" --pth-line \
  > "$SITE/mmppm_mmcv_ext_stub.pth"
cat > "$SITE/sitecustomize.py" <<'EOF'
"""Written by tools/run_offline_kit.sh. A PYTHONPATH folder is not a site
folder, so its .pth files (the mmcv._ext stand-in) are processed here; then
the interpreter's own sitecustomize, if any, runs as it would have."""
import importlib.machinery
import importlib.util
import os
import site
import sys

_here = os.path.dirname(os.path.abspath(__file__))
site.addsitedir(_here)
_rest = [p for p in sys.path if os.path.abspath(p or '.') != _here]
_spec = importlib.machinery.PathFinder.find_spec('sitecustomize', _rest)
if _spec is not None and _spec.loader is not None:
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
EOF
echo "install_s $(since "$t")" >> "$OUT/timings.txt"
echo "installed $(ls "$KIT"/*.whl | wc -l) wheels into $SITE in $(since "$t") s ($(du -sm "$SITE" | cut -f1) MiB)"
export PYTHONPATH="$SITE:$REPO${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1
cd "$REPO"
"$PYTHON" - <<'EOF' | tee -a "$OUT/env.txt" || { echo "error: imports failed"; exit 1; }
import mmpose.models  # first, as a script may: the .pth stand-in must answer
import mmcv._ext  # noqa: F401  (the stand-in, or a full mmcv's own)
import diffusers, mmcv, mmdet, mmengine, mmpose, numpy, torch, transformers
import xtcocotools._mask  # noqa: F401  (compiled: built for this Python)
import mmppm
print('imports: ' + ', '.join(f'{m.__name__} {m.__version__}' for m in (
    mmppm, torch, numpy, transformers, diffusers, mmengine, mmcv, mmdet,
    mmpose)))
EOF

# -- the parts; one failing does not stop the next
status=0
part() {  # part NAME COMMAND...
  local name=$1 t rc; shift
  echo "== $name: $*"
  t=$(now)
  "$@"; rc=$?
  echo "${name}_s $(since "$t") rc $rc" >> "$OUT/timings.txt"
  echo "== $name: rc $rc, $(since "$t") s"
  [ "$rc" = 0 ] || status=1
}
if has bench; then
  part bench env SMOKE="$SMOKE" DEVICE="$DEVICE" PY="$PYTHON" \
    bash tools/analysis/gpu_benchmark.sh "$OUT/bench"
fi
toy() {
  # the toy SD trains on captioned scenes drawn on the fly (no data files)
  read -r -a args <<< "$TOY_ARGS"
  case "$DEVICE" in cuda*) ;; *) export CUDA_VISIBLE_DEVICES= ;; esac
  "$PYTHON" projects/toy_sd/tools/train_toy_sd.py "${args[@]}" \
    --work-dir "$OUT/toy/work" --out "$OUT/toy/toy_sd"
}
has toy && part toy toy
tests() {
  read -r -a args <<< "$PYTEST_ARGS"
  mkdir -p "$OUT/tests"
  "$PYTHON" -m pytest -q -p no:cacheprovider --junitxml "$OUT/tests/junit.xml" \
    "${args[@]}"
}
has tests && part tests tests

echo "total_s $(since "$t0")" >> "$OUT/timings.txt"
echo "== timings (s):"; cat "$OUT/timings.txt"
echo "== bring back $OUT ($(du -sh "$OUT" | cut -f1))"
exit $status
