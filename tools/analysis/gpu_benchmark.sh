#!/usr/bin/env bash
# GPU episode benchmark of PPM on the Stable Diffusion 1.5 architecture.
# Not run in the session that wrote it (no GPU there); see docs/benchmark.md.
#
# Usage: bash tools/analysis/gpu_benchmark.sh [OUT_DIR] [SD]
#   OUT_DIR  where the JSON files go (default work_dirs/gpu_benchmark)
#   SD       local SD 1.5 diffusers folder; default: a random-weight SD 1.5
#            architecture built once into work_dirs/random_sd/sd15-seed0
#            (same cost as the real weights, ~4.5 GB on disk).
# Environment: PY (default .venv/bin/python), DTYPE (default bf16 on CUDA,
#   fp32 elsewhere), STEPS (default 100, the paper's), QUERIES (default 1),
#   NAIVE_STEPS (default 10), MEM_STEPS (default 3) and MEM_BATCHES
#   (default "20 40 80 160") of run 3, FLOPS=0 skips run 4,
#   SD_CACHE (where the random SD folder is kept; default work_dirs/random_sd).
#   SMOKE=1: a quick check of the whole path (STEPS 3, NAIVE_STEPS 2,
#   MEM_STEPS 1, FLOPS 0) for a short GPU lease; each still settable.
#   Rehearsal without a GPU: DEVICE (default cuda), ARCH (default sd15),
#   INPUT_SIZE (default 512), e.g. DEVICE=cpu ARCH=tiny INPUT_SIZE=128.
#
# Runs, each a separate process (memory of one does not leak into the next):
#   1. 17 keypoints, 1-shot, 100 steps: naive vs fast (fast: max_batch 17;
#      map modes ExactMaps, CachedMaps and SharedContextMaps, each also at
#      60 % of the steps: the fast variant of docs/benchmark.md).
#      The naive path costs ~17x the fast one per step; NAIVE_STEPS (default
#      10) steps are timed for it and its steps/s is what to compare.
#   2. 17 keypoints, 5-shot, 100 steps, fast only, max_batch 85 and 32; the
#      fast variants at 85: shared-context maps at 60 % of the steps, and at
#      all steps with 2 of the 5 shots per step (model.fitter.shots_per_step).
#   3. 68 keypoints, 5-shot (340 pairs) memory check, fast only, few steps,
#      max_batch 20 40 80 160, with and without gradient checkpointing.
#   4. Counted FLOPs of the pieces (project_split_cost.py, CPU side): the
#      summary prints each exact run's sustained TFLOP/s.
# Per-episode time -> GPU-hours per split (4,000 episodes) is printed at the
# end from the JSON files (episode_s x 4000 / 3600).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-work_dirs/gpu_benchmark}
SD=${2:-}
PY=${PY:-.venv/bin/python}
DEVICE=${DEVICE:-cuda}
ARCH=${ARCH:-sd15}
INPUT_SIZE=${INPUT_SIZE:-512}
if [ "${SMOKE:-0}" = 1 ]; then
  STEPS=${STEPS:-3} NAIVE_STEPS=${NAIVE_STEPS:-2} MEM_STEPS=${MEM_STEPS:-1}
  FLOPS=${FLOPS:-0}
fi
case "$DEVICE" in cuda*) DTYPE=${DTYPE:-bf16} ;; *) DTYPE=${DTYPE:-fp32} ;; esac
STEPS=${STEPS:-100}
NAIVE_STEPS=${NAIVE_STEPS:-10}
MEM_STEPS=${MEM_STEPS:-3}
read -r -a MEM_BATCHES <<< "${MEM_BATCHES:-20 40 80 160}"
FLOPS=${FLOPS:-1}
QUERIES=${QUERIES:-1}
export HF_HUB_OFFLINE=1
mkdir -p "$OUT"
case "$DEVICE" in
  cuda*) nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv \
           | tee "$OUT/gpu.txt" ;;
  *) echo "device $DEVICE: $(nproc) CPU cores, no GPU" | tee "$OUT/gpu.txt" ;;
esac

SRC=(--arch "$ARCH")
[ -n "${SD_CACHE:-}" ] && SRC+=(--cache-dir "$SD_CACHE")
[ -n "$SD" ] && SRC=(--pretrained "$SD")
COMMON=("${SRC[@]}" --device "$DEVICE" --dtype "$DTYPE"
        --input-size "$INPUT_SIZE" --crop-size 256 --queries "$QUERIES")
BENCH=("$PY" tools/analysis/benchmark_episode.py)

# 1a. naive reference, 17 keypoints 1-shot (fp32 by definition), few steps.
"${BENCH[@]}" "${COMMON[@]}" --keypoints 17 --shots 1 --steps "$NAIVE_STEPS" \
    --paths naive fast --max-batch 17 --out "$OUT/k17_s1_naive_vs_fast.json"
# 1b. fast path, the paper's 100 steps; exact maps and the approximations
#     (model.fitter.map_mode=dict(type='CachedMaps' / 'SharedContextMaps')),
#     each also at 60 % of the steps (the fast variant's count).
VARIANT_STEPS=$(( STEPS * 6 / 10 ))
"${BENCH[@]}" "${COMMON[@]}" --keypoints 17 --shots 1 --steps "$STEPS" \
    --paths fast --max-batch 17 --map-mode ExactMaps CachedMaps \
    SharedContextMaps --warm-start "0:$VARIANT_STEPS" \
    --out "$OUT/k17_s1_fast.json"
# 2. 5-shot (85 pairs). max_batch 85 = one call per step; 32 splits some
#    keypoints' shots across chunks (exact since 57b18d3's per-pair weights).
"${BENCH[@]}" "${COMMON[@]}" --keypoints 17 --shots 5 --steps "$STEPS" \
    --paths fast --max-batch 85 32 --out "$OUT/k17_s5_fast.json"
"${BENCH[@]}" "${COMMON[@]}" --keypoints 17 --shots 5 --steps "$STEPS" \
    --paths fast --max-batch 85 --map-mode SharedContextMaps \
    --warm-start "0:$VARIANT_STEPS" --shots-per-step 2 \
    --out "$OUT/k17_s5_variant.json"
# 3. 68 keypoints 5-shot: 340 pairs. Peak memory per chunk size, with and
#    without gradient checkpointing; a few steps suffice for memory and s/step.
"${BENCH[@]}" "${COMMON[@]}" --keypoints 68 --shots 5 --steps "$MEM_STEPS" \
    --paths fast --max-batch "${MEM_BATCHES[@]}" --gradient-checkpointing both \
    --out "$OUT/k68_s5_memory.json"
# 4. Counted FLOPs of the same pieces (on the CPU side, a few minutes), to
#    turn measured steps/s into sustained TFLOP/s and recheck the projection.
if [ "$FLOPS" = 1 ]; then
  "$PY" tools/analysis/project_split_cost.py "${SRC[@]}" \
      --input-size "$INPUT_SIZE" --keypoints 17 --shots 1 5 \
      --out "$OUT/flops.projection"
fi

# The last column projects every run to PROJECT_STEPS (default 100, the
# paper's) whatever steps it measured (smoke runs included).
"$PY" - "$OUT" "${PROJECT_STEPS:-100}" <<'EOF'
import glob, json, os, sys
out, steps = sys.argv[1], int(sys.argv[2])
flops = None
if os.path.isfile(f'{out}/flops.projection'):
    flops = json.load(open(f'{out}/flops.projection'))['pieces_gflop']
EPISODES = 4000
print(f'\n{"file":<28}{"run":<20}{"s/episode":>10}{"steps/s":>9}'
      f'{"peak GiB":>9}{"GPU-h/split":>12}{f"  (at {steps} steps)":>17}')
for path in sorted(glob.glob(f'{out}/*.json')):
    rep = json.load(open(path))
    n = rep['config']['steps']
    for r in rep['runs']:
        if r.get('oom'):
            print(f'{path.split("/")[-1]:<28}{r["label"]:<20}  out of memory')
            continue
        # Projected to the configured STEPS (a run at another step count,
        # e.g. the fast variant's 60 %, to the same share of them): one-off
        # costs (encode, query) plus the steps at the measured rate.
        run_steps = steps * r.get('steps', n) / n
        per_ep = r['encode_s'] + r['query_s'] + run_steps / r['steps_per_s']
        print(f'{path.split("/")[-1]:<28}{r["label"]:<20}'
              f'{r["episode_s"]:>10.2f}{r["steps_per_s"]:>9.2f}'
              f'{r["peak_mem_mb"] / 1024:>9.1f}'
              f'{r["episode_s"] * EPISODES / 3600:>12.1f}'
              f'{per_ep * EPISODES / 3600:>17.1f}')
        if flops and r.get('map_mode', 'ExactMaps') == 'ExactMaps' \
                and r['steps_per_s']:
            pairs = rep['config']['keypoints'] * rep['config']['shots']
            tflops = flops['unet_fwd_bwd'] * pairs * r['steps_per_s'] / 1e3
            print(f'  sustained during the fit: {tflops:.3g} TFLOP/s '
                  f'({flops["unet_fwd_bwd"]:.4g} GFLOP per pair-step, '
                  'counted)')
    for c in rep['comparisons']:
        rel = c['loss_max_rel_diff']
        print(f'  {c["fast"]} vs naive: loss rel diff '
              f'{"-" if rel is None else format(rel, ".1e")} '
              f'(tol {c["loss_rtol"]:.0e}, '
              f'{"OK" if c["losses_match"] else "MISMATCH"})')
print(f'GPU-h/split = s/episode x {EPISODES} / 3600 for the measured steps; '
      f'the last column projects each run to {steps} steps.')
EOF
