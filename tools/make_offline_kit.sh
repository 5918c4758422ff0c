#!/usr/bin/env bash
# Build the offline GPU kit here: the CPython 3.12 manylinux x86_64 wheels of
# everything an air-gapped GPU node lacks (requirements/offline_kit.txt: one
# pinned version each, installed there with --no-deps), in one folder that
# travels with the repository. docs/benchmark.md, "Offline GPU kit".
#
# Usage: bash tools/make_offline_kit.sh [KIT_DIR]      (default offline_kit)
# Environment:
#   PY         Python that runs pip download (default python3; any version:
#              --python-version selects the target)
#   PYTHON312  a CPython 3.12 with its headers, to build the wheels marked
#              "build: sdist" (default: python3.12 on PATH, else pyenv's 3.12)
#   MAX_MIB    refuse a kit larger than this (default 64)
#
# A "build: sdist" wheel is built from the release's sdist with
# requirements/offline_kit_patches/NAME-VERSION.patch applied, if there is one.
# KIT_DIR is replaced as a whole (it must be empty, absent or an earlier kit).
# It holds the wheels, pins.txt (the pin file it was built from) and
# manifest.txt (file, bytes, sha256), which the launcher checks on the node.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=${1:-offline_kit}
PINS=requirements/offline_kit.txt
PATCHES=requirements/offline_kit_patches
REPO=$(pwd)
PY=${PY:-python3}
MAX_MIB=${MAX_MIB:-64}
TARGET=(--only-binary=:all: --python-version 3.12 --implementation cp
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
        --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
# pip warns about every missing local index folder; keep the log readable.
filter() { grep -v "^WARNING: Location '" || true; }

if [ -e "$KIT" ] && [ -n "$(ls -A "$KIT")" ] && [ ! -f "$KIT/manifest.txt" ]; then
  echo "error: $KIT is not empty and holds no kit (no manifest.txt); choose another folder" >&2
  exit 2
fi
start=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mmppm_kit.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/kit"

# NAME==VERSION lines, comments dropped; "build: sdist" lines apart.
specs() { grep -vE '^\s*(#|$)' "$PINS" | sed 's/ *#.*//'; }
sdist_specs() { grep -E '^[^#[:space:]][^#]*#.*build: sdist' "$PINS" | sed 's/ *#.*//'; }
build_requires() { sed -n 's/^# build-requires: //p' "$PINS"; }

n=$(specs | wc -l)
mapfile -t WHEELS < <(specs | grep -vxF -f <(sdist_specs; echo '#'))
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps \
    "${TARGET[@]}" -d "$TMP/kit" "${WHEELS[@]}" 2>&1 | filter

if [ -n "$(sdist_specs)" ]; then
  is312() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2> /dev/null; }
  if [ -z "${PYTHON312:-}" ]; then
    for c in python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python; do
      if is312 "$c"; then PYTHON312=$c; break; fi
    done
  fi
  if [ -z "${PYTHON312:-}" ] || ! is312 "$PYTHON312"; then
    echo "error: no CPython 3.12 to build $(sdist_specs | tr '\n' ' ')(set PYTHON312)" >&2
    exit 1
  fi
  echo "building $(sdist_specs | tr '\n' ' ')with $PYTHON312 against $(build_requires)"
  "$PYTHON312" -m venv "$TMP/build"
  read -r -a BUILD_REQ <<< "$(build_requires)"
  "$TMP/build/bin/python" -m pip install --quiet --disable-pip-version-check \
      "${BUILD_REQ[@]}" 2>&1 | filter
  while read -r spec; do
    name=${spec%%==*}
    "$TMP/build/bin/python" -m pip download --quiet --disable-pip-version-check \
        --no-deps --no-binary :all: -d "$TMP/sdist/$name" "$spec" 2>&1 | filter
    src=$TMP/src/$name
    mkdir -p "$src"
    tar xzf "$TMP/sdist/$name"/*.tar.gz -C "$src" --strip-components 1
    # a source fix the release lacks (the patch file says why)
    fix=$REPO/$PATCHES/$name-${spec#*==}.patch
    if [ -f "$fix" ]; then
      echo "applying ${fix#"$REPO"/}"
      if command -v patch > /dev/null; then (cd "$src" && patch -s -p1 < "$fix")
      else (cd "$src" && git apply -p1 "$fix"); fi
    fi
    # setup.py imports numpy: build in the venv above, not in isolation
    "$TMP/build/bin/python" -m pip wheel --quiet --disable-pip-version-check \
        --no-deps --no-build-isolation -w "$TMP/kit" "$src" 2>&1 | filter
  done < <(sdist_specs)
fi

# One wheel per pin, each the pinned version.
"$PY" - "$TMP/kit" "$PINS" <<'EOF'
import os, re, sys
kit, pins = sys.argv[1], sys.argv[2]
norm = lambda s: re.sub(r'[-_.]+', '-', s).lower()
want = {}
for line in open(pins):
    line = line.split('#')[0].strip()
    if line:
        name, ver = line.split('==')
        want[norm(name)] = ver
got = {}
for f in os.listdir(kit):
    name, ver = f.split('-')[:2]
    if norm(name) in got:
        sys.exit(f'error: two wheels of {name} in the kit')
    got[norm(name)] = ver
if got != want:
    sys.exit(f'error: kit {sorted(got.items())} != pins {sorted(want.items())}')
EOF
cp "$PINS" "$TMP/kit/pins.txt"
(cd "$TMP/kit" && for f in *.whl; do
   echo "$f $(stat -c %s "$f") $(sha256sum "$f" | cut -d' ' -f1)"
 done) > "$TMP/kit/manifest.txt"
bytes=$(awk '{s += $2} END {print s}' "$TMP/kit/manifest.txt")
mib=$(( (bytes + 1048575) / 1048576 ))
if [ "$mib" -gt "$MAX_MIB" ]; then
  echo "error: the kit is $mib MiB, over MAX_MIB=$MAX_MIB" >&2
  exit 1
fi
rm -rf "$KIT"
mkdir -p "$(dirname "$KIT")"
mv "$TMP/kit" "$KIT"
echo "kit: $KIT, $n wheels, $mib MiB ($bytes bytes), $(( $(date +%s) - start )) s"
echo "copy the repository with it to the node, then: bash tools/run_offline_kit.sh $KIT OUT_DIR"
