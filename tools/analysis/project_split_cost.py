# Copyright (c) mmppm contributors. All rights reserved.
"""Project the GPU cost of a whole MP-100 split from counted FLOPs.

A projection, not a measurement: use it where no GPU is at hand, and replace
it with ``tools/analysis/gpu_benchmark.sh`` figures where one is.

1. FLOPs are *counted* (``torch.utils.flop_counter.FlopCounterMode``, SDPA
   forced through its math backend so attention is counted too) for the
   pieces of one PPM episode on the chosen SD architecture, each for one
   image or one (prompt, image) pair: VAE encode; UNet forward + backward to
   the prompt (one optimisation step of one pair, ``exact``); UNet forward
   (one query map); for ``cached``, one feature pass (queries of the map
   layers) and the map arithmetic of one pair.
2. Episode FLOPs for K keypoints, S shots, Q queries and T steps follow
   (:func:`episode_flops`); seconds per episode and GPU-hours per split are
   those FLOPs divided by *assumed* sustained throughputs
   (``--sustained-tflops``; H100 SXM dense bf16 peak is about 989 TFLOP/s,
   real UNet fwd+bwd reaches a fraction of it).
3. With ``--memory-json`` (reports of ``benchmark_episode.py`` run with
   several ``--max-batch`` values on one architecture and input size), the
   peak memory is fitted as ``base + per_pair * max_batch`` and the largest
   ``max_batch`` within ``--memory-budget-gb`` is printed. Chunking makes the
   peak independent of K x S, so that ``max_batch`` serves the largest
   episode (68 keypoints x 5 shots) too.

Example::

    HF_HUB_OFFLINE=1 .venv/bin/python tools/analysis/project_split_cost.py \\
        --arch sd15 --input-size 512 --keypoints 17 --shots 1 5 \\
        --memory-json work_dirs/bench/sd15_mem.json \\
        --out work_dirs/bench/sd15_projection.json

A thin CLI over :mod:`mmppm_analysis.split_cost` (the arithmetic and the
FLOP count); this file reads the benchmark reports and prints.
"""
import argparse
import json
import os
from typing import List, Optional, Sequence, Tuple

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import mmppm_analysis as bench  # noqa: E402  (shared tool helpers)
import torch  # noqa: E402
from mmppm_analysis.split_cost import count_pieces  # noqa: E402
from mmppm_analysis.split_cost import (MODES, PIECES, episode_flops,
                                       fit_memory, largest_batch_within,
                                       seconds_at)

from mmppm.engine.cli import require_file, run_tool  # noqa: E402
from mmppm.engine.cli.arg_types import non_negative_int  # noqa: E402
from mmppm.engine.cli.arg_types import positive_float, positive_int
from mmppm.utils.errors import ToolError  # noqa: E402

#: The projected variants: the paper's exact path, the two one-pass
#: approximations, and warm starts (100 cached steps, then a few steps of
#: another mode: model.fitter=dict(type='WarmStartFitter', ...)).
DEFAULT_VARIANTS = ('exact', 'cached', 'shared_context',
                    'shared_context:20:100', 'shared_context:10:100',
                    'exact:5:100')


def variant_spec(text: str) -> Tuple[str, Optional[int], int, Optional[int]]:
    """``MODE[:STEPS[:WARM[:SHOTS_PER_STEP]]]`` -> ``(mode, steps or None,
    warm, shots_per_step or None)``."""
    parts = text.split(':')
    try:
        if parts[0] not in MODES or len(parts) > 4:
            raise ValueError
        steps = int(parts[1]) if len(parts) > 1 else None
        warm = int(parts[2]) if len(parts) > 2 else 0
        per_step = int(parts[3]) if len(parts) > 3 else None
        if ((steps is not None and steps < 0) or warm < 0
                or (per_step is not None and per_step < 1)):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not MODE[:STEPS[:WARM[:SHOTS_PER_STEP]]] with MODE '
            f'one of {list(MODES)}, STEPS and WARM integers >= 0 and '
            'SHOTS_PER_STEP an integer >= 1') from None
    return parts[0], steps, warm, per_step


def variant_name(mode: str,
                 steps: int,
                 warm: int,
                 shots_per_step: Optional[int] = None) -> str:
    """``'shared_context 20 (+100 cached)'``, ``'shared_context 100 (2
    shots/step)'``."""
    return (f'{mode} {steps}' + (f' (+{warm} cached)' if warm else '') +
            (f' ({shots_per_step} shots/step)' if shots_per_step else ''))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_sd_args(parser, default_arch='sd15')
    parser.add_argument('--input-size', type=positive_int, default=512)
    parser.add_argument('--crop-size', type=positive_int, default=256)
    parser.add_argument('--keypoints', type=positive_int, default=17)
    parser.add_argument(
        '--shots', type=positive_int, nargs='+', default=[1, 5])
    parser.add_argument(
        '--queries',
        type=positive_int,
        default=15,
        help='queries per episode (MP-100 protocol: 15)')
    parser.add_argument(
        '--steps',
        type=non_negative_int,
        default=100,
        help='optimisation steps (paper default: 100)')
    parser.add_argument(
        '--variants',
        type=variant_spec,
        nargs='+',
        default=[variant_spec(v) for v in DEFAULT_VARIANTS],
        help='map-mode variants, each MODE[:STEPS[:WARM[:SHOTS_PER_STEP]]]: '
        f'MODE one of {list(MODES)}, STEPS its fit steps (default --steps), '
        'WARM cached steps before them (WarmStartFitter; default 0), '
        'SHOTS_PER_STEP the shots each of those steps works on '
        '(model.fitter.shots_per_step; default all). Default: '
        f'{" ".join(DEFAULT_VARIANTS)}')
    parser.add_argument(
        '--episodes',
        type=positive_int,
        default=4000,
        help='episodes per split (20 categories x 200)')
    parser.add_argument(
        '--sustained-tflops',
        type=positive_float,
        nargs='+',
        default=[200., 400.],
        help='assumed sustained TFLOP/s of the GPU')
    parser.add_argument(
        '--memory-json',
        nargs='+',
        default=[],
        help='benchmark_episode.py reports to fit peak '
        'memory per max_batch from')
    parser.add_argument(
        '--memory-checkpointing',
        action='store_true',
        help='fit the runs with gradient checkpointing '
        '(default: the runs without)')
    parser.add_argument('--memory-budget-gb', type=positive_float, default=24.)
    parser.add_argument(
        '--no-flops',
        action='store_true',
        help='skip the FLOP count (memory projection only; '
        'no model is loaded)')
    parser.add_argument('--threads', type=positive_int, default=None)
    parser.add_argument('--out', help='write the projection as JSON here')
    return parser.parse_args(argv)


def exact_run(run: dict) -> bool:
    """Whether a benchmark_episode.py run used exact maps (``map_mode``;
    reports written before the nested config name it ``map_features``)."""
    return run.get('map_mode', run.get('map_features',
                                       'exact')) in ('ExactMaps', 'exact')


def memory_points(
        paths: Sequence[str],
        checkpointing: bool = False
) -> Tuple[List[Tuple[int, float]], List[str]]:
    """``(max_batch, peak MB)`` of the exact fast runs in benchmark reports
    (those with gradient checkpointing if ``checkpointing``)."""
    points, kinds = [], set()
    for path in paths:
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, json.JSONDecodeError) as err:
            raise ToolError(f'--memory-json {path}: cannot read a '
                            f'benchmark_episode.py report ({err})') from None
        if not isinstance(report, dict):
            raise ToolError(f'--memory-json {path}: not a '
                            'benchmark_episode.py report (a JSON object)')
        for run in report.get('runs', []):
            if (run.get('path') == 'fast' and not run.get('oom')
                    and exact_run(run) and bool(
                        run.get('gradient_checkpointing')) == checkpointing
                    and run.get('peak_mem_mb') is not None):
                points.append((run['max_batch'], run['peak_mem_mb']))
                kinds.add(run['mem_kind'])
    return points, sorted(kinds)


# ------------------------------------------------------------------- main
def project_flops(args) -> dict:
    """Count the pieces on the model, project every episode size; print.

    A random architecture (``--arch``) is built on the meta device: FLOPs
    depend on shapes only, so nothing is computed or written, and SDXL's
    2.6 B-parameter UNet costs no memory."""
    if args.pretrained:
        pretrained, components = args.pretrained, None
    else:
        from mmppm.utils.random_sd import build_random_sd_parts
        pretrained = f'random {args.arch} (meta device)'
        components = build_random_sd_parts(args.arch, 'meta')
    model = bench.build_model(
        pretrained, args.input_size, components=components)
    pieces = count_pieces(model, args.input_size, args.crop_size,
                          args.keypoints)
    rows = []
    for shots in args.shots:
        exact = episode_flops(pieces, args.keypoints, shots, args.queries,
                              args.steps, 'exact')
        for mode, steps, warm, per_step in args.variants:
            steps = args.steps if steps is None else steps
            flops = episode_flops(pieces, args.keypoints, shots, args.queries,
                                  steps, mode, warm, per_step)
            rows.append(
                dict(
                    shots=shots,
                    variant=variant_name(mode, steps, warm, per_step),
                    mode=mode,
                    steps=steps,
                    warm_steps=warm,
                    shots_per_step=per_step,
                    tflop_per_episode=flops / 1e12,
                    less_work_than_exact=exact / flops,
                    projected={
                        str(t):
                        dict(
                            s_per_episode=seconds_at(flops, t),
                            gpu_hours_per_split=seconds_at(flops, t) *
                            args.episodes / 3600)
                        for t in args.sustained_tflops
                    }))
    sd = args.pretrained or f'random {args.arch}'
    print(f'\nCounted GFLOP (SD {sd}, input {args.input_size}, one image or '
          'one (prompt, image) pair):')
    for k in PIECES:
        print(f'  {k:<14}{pieces[k] / 1e9:>14.4g}')
    print(f'\nProjected cost, K={args.keypoints} Q={args.queries} '
          f'steps={args.steps}, {args.episodes} episodes per split '
          '(assumed sustained throughput; not measured):')
    width = max(len(r['variant']) for r in rows) + 1
    head = (f"{'shots':>5} {'variant':<{width}}{'TFLOP/episode':>15}"
            f"{'exact/variant':>15}")
    for t in args.sustained_tflops:
        head += f'{f"s/ep @{t:g}":>13}{f"GPU-h @{t:g}":>13}'
    print(head)
    for r in rows:
        line = (f"{r['shots']:>5} {r['variant']:<{width}}"
                f"{r['tflop_per_episode']:>15.4g}"
                f"{r['less_work_than_exact']:>14.1f}x")
        for t in args.sustained_tflops:
            p = r['projected'][str(t)]
            line += (f"{p['s_per_episode']:>13.3g}"
                     f"{p['gpu_hours_per_split']:>13.3g}")
        print(line)
    return dict(
        pretrained_path=pretrained,
        pieces_gflop={
            k: v / 1e9
            for k, v in pieces.items()
        },
        episodes=rows)


def project_memory(args) -> dict:
    """Fit peak memory per ``max_batch`` from benchmark reports; print."""
    points, kinds = memory_points(args.memory_json, args.memory_checkpointing)
    try:
        base, per_pair = fit_memory(points)
    except ValueError as err:
        raise ToolError(
            f'--memory-json: {err}. Run benchmark_episode.py with '
            'several --max-batch values (e.g. --max-batch 1 2 4) on the '
            'same --arch and --input-size and pass its --out file.') from None
    budget = args.memory_budget_gb * 1024
    best = largest_batch_within(budget, base, per_pair)
    ckpt = ', gradient checkpointing' if args.memory_checkpointing else ''
    print(f"\nPeak memory ({', '.join(kinds)}{ckpt}), fitted over max_batch "
          f"{sorted({b for b, _ in points})}: {base:.0f} MB + "
          f'{per_pair:.0f} MB per pair in a UNet call; largest max_batch '
          f'within {args.memory_budget_gb:g} GB: {best} (projection; the '
          'peak does not grow with K x S, chunks of max_batch pairs)')
    return dict(
        kind='projected from ' + ', '.join(kinds),
        gradient_checkpointing=args.memory_checkpointing,
        points=points,
        base_mb=base,
        per_pair_mb=per_pair,
        budget_mb=budget,
        largest_max_batch=best)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if args.no_flops and not args.memory_json:
        raise ToolError('--no-flops leaves nothing to do without '
                        '--memory-json')
    for path in args.memory_json:
        require_file(path, '--memory-json report')
    if args.threads:
        torch.set_num_threads(args.threads)
    report = dict(
        config=dict(vars(args), torch=torch.__version__),
        kind='projection from counted FLOPs and assumed throughput; '
        'not a measurement')
    if not args.no_flops:
        report.update(project_flops(args))
    if args.memory_json:
        report['memory'] = project_memory(args)
    if args.out:
        bench.write_json(report, args.out)
    return report


if __name__ == '__main__':
    run_tool(main)
