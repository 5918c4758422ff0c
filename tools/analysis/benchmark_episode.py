# Copyright (c) mmppm contributors. All rights reserved.
"""Time one synthetic PPM episode: the naive reference vs the fast path.

Both paths run the same episode (same images, targets, prompt init and
per-step noise) on one SD model, so their loss trajectories and query maps
must agree; the tool checks that and reports the speed-up.

- ``naive``: the library's reference loop
  (:func:`mmppm.models.fitters.naive_episode`) over keypoints and shots with
  one UNet call per (keypoint, shot) pair per step, the support re-encoded
  by the VAE at every step, here with full attention processors
  (``--naive-attention full``, the default: diffusers' classic
  ``AttnProcessor`` on every layer, which materialises ``softmax(QK^T)``,
  and the maps of every ``attn2`` layer recorded, as a prompt-to-prompt
  style attention store does, though only the configured layers are used),
  fp32, no gradient checkpointing; queries one (query, keypoint) pair per
  UNet call. ``--naive-attention sdpa`` keeps the model's own processors
  for the naive loop (SDPA self-attention, maps of the configured layers
  only, SDPA over the one-token context): a stronger baseline that isolates
  what batching, cached latents and the shortcut alone give.
- ``fast``: :meth:`PromptFitter.fit` + :meth:`MapMode.query_maps`
  (one-token shortcut, all pairs batched ``max_batch`` per UNet call, latents
  encoded once per episode, ``amp_dtype`` autocast on CUDA), once per
  ``--max-batch`` value (and per checkpointing setting and
  ``--map-mode`` value): the model's own :class:`PromptFitter` and map
  mode classes, built here with the benchmark's steps, ``max_batch`` and
  map mode (the model's ``test_cfg`` is not changed). The UNet call count
  is the cost model's count for the map mode
  (:mod:`mmppm_analysis.unet_calls`).

The support targets are the episode pipeline's: the ``MSRAHeatmap`` codec of
``configs/_base_/datasets/mp100_episodes.py`` (its sigma) at ``--crop-size``.

Each measured run follows an untimed warm-up run (``--warmup-steps`` steps).
Peak memory is the peak over the timed run: on CUDA
``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; on
CPU the process's peak RSS (``VmHWM`` of ``/proc/self/status``, reset through
``/proc/self/clear_refs`` before the run).

Example::

    HF_HUB_OFFLINE=1 .venv/bin/python tools/analysis/benchmark_episode.py \\
        --arch tiny --keypoints 17 --shots 1 --steps 5 --queries 1 \\
        --input-size 256 --max-batch 17 8 --out work_dirs/bench_tiny.json
"""
import argparse
import os
import os.path as osp
import platform
import time
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from mmppm_analysis import add_sd_args  # noqa: E402
from mmppm_analysis import (AMP_DTYPES, PhaseTimer, build_model, peak_memory,
                            resolve_pretrained, write_json)
from mmppm_analysis.profiling import sync as _sync  # noqa: E402
from mmppm_analysis.unet_calls import episode_unet_calls, fit_unet_calls

from mmppm.engine.cli import run_tool  # noqa: E402
from mmppm.engine.cli.arg_types import non_negative_int  # noqa: E402
from mmppm.engine.cli.arg_types import positive_float, positive_int
from mmppm.models.backbones.attn_processors import \
    CrossAttnMapProcessor  # noqa: E402
from mmppm.models.fitters import PromptFitter, WarmStartFitter, naive_episode
from mmppm.utils.errors import ToolError  # noqa: E402

# the episode dataset config whose support codec makes the targets (this
# tool lives in the repository's tools/analysis/)
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EPISODE_DATASET_CFG = osp.join(REPO, 'configs', '_base_', 'datasets',
                               'mp100_episodes.py')
#: The map mode the naive loop computes (expected to match it).
EXACT = 'ExactMaps'
# Default tolerance on the relative loss difference naive vs fast.
LOSS_RTOL = dict(fp32=1e-4, bf16=5e-2, fp16=2e-2)


def map_mode_names() -> List[str]:
    """The registered map modes (``model.fitter.map_mode`` types)."""
    from mmpose.registry import MODELS

    from mmppm.models.map_modes import MapMode
    from mmppm.utils.config_checks import registered
    return registered(MODELS, MapMode)


def warm_spec(text: str) -> Tuple[int, int]:
    """``'WARM:STEPS'`` -> ``(warm, steps)``, both integers >= 0."""
    try:
        warm, steps = (int(v) for v in text.split(':'))
        if warm < 0 or steps < 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not WARM:STEPS (two integers >= 0, e.g. 50:10)'
        ) from None
    return warm, steps


def variant_label(steps: int,
                  warm: int,
                  default_steps: int,
                  shots_per_step: Optional[int] = None) -> str:
    """``' 30 steps'`` / ``' 20 steps +50 cached'`` / ``' 2 shots/step'``
    for a run whose steps differ from ``--steps``, that starts warm or fits
    on a subset of the shots per step; ``''`` otherwise."""
    label = f' {steps} steps' if warm or steps != default_steps else ''
    return (label + (f' +{warm} cached' if warm else '') +
            (f' {shots_per_step} shots/step' if shots_per_step else ''))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time one synthetic PPM episode, naive vs fast.')
    add_sd_args(parser, default_arch='tiny')
    parser.add_argument('--keypoints', type=positive_int, default=17)
    parser.add_argument('--shots', type=positive_int, default=1)
    parser.add_argument(
        '--steps',
        type=non_negative_int,
        default=5,
        help='Adam steps of the prompt optimisation')
    parser.add_argument('--queries', type=positive_int, default=1)
    parser.add_argument(
        '--input-size',
        type=positive_int,
        default=512,
        help='square image size fed to SD (crop resized)')
    parser.add_argument(
        '--crop-size',
        type=positive_int,
        default=256,
        help='square crop size; maps and targets live here')
    parser.add_argument(
        '--dtype',
        default='fp32',
        choices=sorted(AMP_DTYPES),
        help='autocast dtype of the fast path (PPMEstimator amp_dtype; '
        'CUDA only). The naive path is always fp32')
    parser.add_argument(
        '--device', default='cpu', help="'cpu', 'cuda' or 'cuda:N'")
    parser.add_argument(
        '--max-batch',
        type=positive_int,
        nargs='+',
        default=[64],
        help='fast path: pairs per UNet call; each value is '
        'measured')
    parser.add_argument(
        '--gradient-checkpointing',
        nargs='?',
        const='on',
        default='off',
        choices=['off', 'on', 'both'],
        help='fast path: UNet gradient checkpointing (flag alone = on; '
        "'both' measures each max-batch with and without)")
    parser.add_argument(
        '--map-mode',
        nargs='+',
        default=[EXACT],
        choices=map_mode_names(),
        help="fast path: the map mode (model.fitter.map_mode.type), each "
        "measured (all but ExactMaps are approximations: not expected to "
        "match naive)")
    parser.add_argument(
        '--warm-start',
        type=warm_spec,
        nargs='+',
        default=[],
        help='fast path, also: WARM:STEPS = WARM cached steps, then STEPS '
        'steps of each --map-mode (WarmStartFitter), each measured beside '
        'the --steps runs')
    parser.add_argument(
        '--shots-per-step',
        type=positive_int,
        nargs='+',
        default=[],
        help='fast path, also: each --map-mode at --steps with each step on '
        'this many of the shots (model.fitter.shots_per_step), each measured '
        'beside the --steps runs')
    parser.add_argument(
        '--naive-attention',
        default='full',
        choices=['full', 'sdpa'],
        help="naive path's attention: 'full' = diffusers AttnProcessor "
        "(materialised softmax(QK^T)) on every layer and maps recorded on "
        "every attn2 layer; 'sdpa' = the model's own processors with the "
        'one-token shortcut off')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='fast path: torch.compile the UNet forward (backbone '
        'compile_cfg=dict(dynamic=True)); compilation happens in the '
        'untimed warm-up run. The naive path stays eager')
    parser.add_argument(
        '--paths',
        nargs='+',
        default=['naive', 'fast'],
        choices=['naive', 'fast'])
    parser.add_argument(
        '--warmup-steps',
        type=non_negative_int,
        default=1,
        help='steps of the untimed warm-up run before each '
        'measured run (0: no warm-up)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='episode seed (prompt init and noise)')
    parser.add_argument('--lr', type=positive_float, default=2e-3)
    parser.add_argument(
        '--loss-rtol',
        type=positive_float,
        default=None,
        help='tolerance of the naive/fast loss check '
        '(default: 1e-4 fp32, 5e-2 bf16, 2e-2 fp16)')
    parser.add_argument(
        '--threads',
        type=positive_int,
        default=None,
        help='torch.set_num_threads (CPU)')
    parser.add_argument('--out', help='write the results as JSON here')
    args = parser.parse_args(argv)
    if args.input_size % 8:
        parser.error('--input-size must be a multiple of 8 (VAE factor)')
    return args


# ---------------------------------------------------------------- episode
def support_codec(crop_size: int):
    """The episode pipeline's support target codec (``codec`` of
    :data:`EPISODE_DATASET_CFG`, an ``MSRAHeatmap``) at a square crop."""
    from mmengine.config import Config
    from mmpose.registry import KEYPOINT_CODECS
    codec = Config.fromfile(EPISODE_DATASET_CFG).codec
    size = (crop_size, crop_size)
    return KEYPOINT_CODECS.build(
        dict(codec, input_size=size, heatmap_size=size))


def make_episode(num_kpts: int, num_shots: int, num_queries: int,
                 crop_size: int, seed: int) -> Dict[str, torch.Tensor]:
    """A synthetic episode: smooth random images, random keypoints.

    Returns:
        dict: ``images`` ``[S + Q, 3, crop, crop]`` in [-1, 1] (supports
        first), ``targets`` ``[S, K, crop, crop]`` (:func:`support_codec`'s
        heatmaps, as the support pipeline's ``GenerateTarget`` makes them),
        ``visible`` ``[S, K]`` (its keypoint weights).
    """
    g = torch.Generator().manual_seed(10_000 + seed)
    n = num_shots + num_queries
    low = torch.rand(n, 3, 8, 8, generator=g) * 2 - 1
    images = F.interpolate(
        low, size=(crop_size, crop_size), mode='bilinear', align_corners=False)
    kpts = (0.15 + 0.7 * torch.rand(num_shots, num_kpts, 2, generator=g)) \
        * (crop_size - 1)
    codec = support_codec(crop_size)
    encoded = [codec.encode(k[None].numpy()) for k in kpts]
    return dict(
        images=images,
        targets=torch.from_numpy(np.stack([e['heatmaps'] for e in encoded])),
        visible=torch.from_numpy(
            np.concatenate([e['keypoint_weights'] for e in encoded])))


# ---------------------------------------------------------------- measure
# ------------------------------------------------------------------ model
def set_one_token_shortcut(backbone, enabled: bool) -> None:
    """Switch every capture processor between the shortcut and SDPA."""
    for proc in backbone.unet.attn_processors.values():
        if isinstance(proc, CrossAttnMapProcessor):
            proc.one_token_shortcut = enabled


def set_gradient_checkpointing(backbone, enabled: bool) -> None:
    if enabled:
        backbone.unet.enable_gradient_checkpointing()
    else:
        backbone.unet.disable_gradient_checkpointing()


class FullCaptureProcessor(CrossAttnMapProcessor):
    """Naive ``attn2`` processor: the library's map capture, with diffusers'
    classic ``AttnProcessor`` arithmetic (``softmax(QK^T)`` materialised with
    ``get_attention_scores``, then ``bmm``) instead of the one-token shortcut
    or SDPA, so the maps equal the fast path's."""

    def __init__(self, name: str, store) -> None:
        super().__init__(name, store, one_token_shortcut=False)

    def attend(self, attn, query, key, value, attention_mask):
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(
                attention_mask, key.shape[1], query.shape[0])
        probs = attn.get_attention_scores(
            attn.head_to_batch_dim(query), attn.head_to_batch_dim(key),
            attention_mask)
        return attn.batch_to_head_dim(
            torch.bmm(probs, attn.head_to_batch_dim(value)))


@contextmanager
def naive_attention(backbone, kind: str):
    """Install the naive path's attention processors, then restore."""
    saved = dict(backbone.unet.attn_processors)
    try:
        if kind == 'full':
            from diffusers.models.attention_processor import AttnProcessor
            backbone.unet.set_attn_processor({
                name:
                FullCaptureProcessor(name, backbone.store)
                if name.endswith('attn2.processor') else AttnProcessor()
                for name in saved
            })
        else:
            set_one_token_shortcut(backbone, False)
        yield
    finally:
        backbone.unet.set_attn_processor(saved)
        set_one_token_shortcut(backbone, True)


# ------------------------------------------------------------------ paths
def run_naive(model,
              episode,
              steps: int,
              seed: int,
              timer: PhaseTimer,
              attention: str = 'full') -> dict:
    """The reference loop: one UNet call per pair, VAE every step, fp32."""
    with naive_attention(model.backbone, attention), \
            model.backbone.eager_unet():
        return _naive_loop(model, episode, steps, seed, timer)


def _naive_loop(model, episode, steps: int, seed: int,
                timer: PhaseTimer) -> dict:
    set_gradient_checkpointing(model.backbone, False)
    return naive_episode(
        model,
        episode['images'].to(timer.device),
        episode['targets'],
        episode['visible'],
        steps,
        torch.Generator().manual_seed(seed),
        phase=timer)


def run_fast(model,
             episode,
             steps: int,
             seed: int,
             timer: PhaseTimer,
             max_batch: int,
             checkpointing: bool,
             map_mode: str = EXACT,
             warm_steps: int = 0,
             shots_per_step: Optional[int] = None) -> dict:
    """The library path, as ``PPMEstimator.predict_episode`` runs it: the
    model's fitter and map-mode classes built with this run's ``steps``,
    ``max_batch``, map mode (a registered ``MapMode`` name) and
    ``shots_per_step``; with ``warm_steps``, a ``WarmStartFitter`` whose
    first stage takes that many cached steps."""
    backbone, device = model.backbone, timer.device
    set_one_token_shortcut(backbone, True)
    set_gradient_checkpointing(backbone, checkpointing)
    fit_cfg = dict(
        lr=model.fitter.lr,
        prompt_init_std=model.fitter.prompt_init_std,
        prompt_scale=model.fitter.prompt_scale)
    fitter = PromptFitter(
        steps=steps,
        shots_per_step=shots_per_step,
        map_mode=dict(type=map_mode, max_batch=max_batch),
        **fit_cfg)
    if warm_steps:
        fitter = WarmStartFitter(
            warm_start=dict(
                type='PromptFitter',
                steps=warm_steps,
                map_mode=dict(type='CachedMaps', max_batch=max_batch),
                **fit_cfg),
            steps=steps,
            map_mode=dict(type=map_mode, max_batch=max_batch),
            **fit_cfg)
    mode = fitter.map_mode.bind(backbone, model.context, model.autocast)
    images = episode['images'].to(device)
    targets, visible = episode['targets'], episode['visible']
    num_shots, num_kpts = visible.shape
    map_size = tuple(targets.shape[-2:])
    g = torch.Generator().manual_seed(seed)
    try:
        with timer('encode'):
            latents = backbone.encode(images)  # once per episode
        with timer('fit'), torch.enable_grad():
            fit = fitter.fit(
                mode,
                model.head,
                latents[:num_shots],
                targets,
                visible,
                g,
                episode='benchmark episode')
            prompts = fit.prompts
        with timer('query'), torch.no_grad():
            maps = mode.query_maps(latents[num_shots:], prompts, map_size, g)
            keypoints, _ = model.head.decode(maps)
    finally:
        set_gradient_checkpointing(backbone, False)
    losses = list(fit.losses)
    num_pairs = int((visible > 0).sum())
    calls = episode_unet_calls(
        mode,
        steps=len(losses) - warm_steps,
        num_pairs=num_pairs,
        num_supports=num_shots,
        num_queries=maps.shape[0],
        num_prompts=num_kpts)
    if warm_steps:
        calls += fit_unet_calls(fitter.warm_start.map_mode, warm_steps,
                                num_pairs, num_shots)
    return dict(
        losses=losses,
        prompts=prompts,
        maps=maps,
        keypoints=keypoints,
        unet_calls=calls)


def measure(fn, args, episode, device: torch.device, **kwargs) -> dict:
    """One untimed warm-up run, then one timed run with peak memory
    (``steps`` in ``kwargs``: this run's steps; default ``--steps``)."""
    steps = kwargs.pop('steps', args.steps)
    warmup_s = 0.
    if args.warmup_steps:  # (includes torch.compile's compilation)
        start = time.perf_counter()
        fn(episode=episode,
           steps=min(args.warmup_steps, steps),
           seed=args.seed,
           timer=PhaseTimer(device),
           **kwargs)
        _sync(device)
        warmup_s = time.perf_counter() - start
    timer = PhaseTimer(device)
    with peak_memory(device) as mem:
        start = time.perf_counter()
        result = fn(
            episode=episode,
            steps=steps,
            seed=args.seed,
            timer=timer,
            **kwargs)
        _sync(device)
        episode_s = time.perf_counter() - start
    fit_s, query_s = timer.times['fit'], timer.times['query']
    num_q = episode['images'].shape[0] - args.shots
    result.update(
        warmup_s=warmup_s,
        episode_s=episode_s,
        encode_s=timer.times.get('encode', 0.),
        fit_s=fit_s,
        query_s=query_s,
        steps_per_s=steps / fit_s if fit_s > 0 else None,
        query_images_per_s=num_q / query_s if query_s > 0 else None,
        **mem)
    return result


def measure_or_oom(fn, args, episode, device: torch.device, **kwargs) -> dict:
    """:func:`measure`, recording an out-of-memory run instead of raising."""
    what = fn.__name__[len('run_'):]
    if 'max_batch' in kwargs:
        what += f" max_batch={kwargs['max_batch']}" + (
            ' ckpt' if kwargs.get('checkpointing')
            else '') + (f" {kwargs['map_mode']}" if kwargs.get(
                'map_mode', EXACT) != EXACT else '')
    try:
        res = measure(fn, args, episode, device, **kwargs)
        print(
            f"[{what}] episode {res['episode_s']:.3f} s, "
            f"{_fmt(res['steps_per_s'])} steps/s, peak "
            f"{_fmt(res['peak_mem_mb'], '.0f')} MB",
            flush=True)
        return dict(res, oom=False)
    except torch.OutOfMemoryError as err:
        print(f'out of memory: {str(err).splitlines()[0]}', flush=True)
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return dict(
        oom=True,
        losses=[],
        unet_calls=None,
        **{
            k: None
            for k in ('warmup_s', 'episode_s', 'encode_s', 'fit_s', 'query_s',
                      'steps_per_s', 'query_images_per_s', 'peak_mem_mb',
                      'peak_mem_delta_mb', 'mem_kind')
        })


def compare(naive: dict, fast: dict, rtol: float) -> dict:
    """Agreement of the fast run with the naive reference."""
    a = torch.tensor(naive['losses'], dtype=torch.float64)
    b = torch.tensor(fast['losses'], dtype=torch.float64)
    if len(a) != len(b):  # another number of steps (a warm start)
        loss_rel = None
    elif len(a):
        loss_rel = float(((a - b).abs() / a.abs().clamp(min=1e-12)).max())
    else:
        loss_rel = 0.
    pa, pb = naive['prompts'].float().cpu(), fast['prompts'].float().cpu()
    ma, mb = naive['maps'].float().cpu(), fast['maps'].float().cpu()
    map_diff = float((ma - mb).abs().max())
    kp_a = torch.as_tensor(naive['keypoints']).long()  # [Q, K, 2] (x, y)
    kp_b = torch.as_tensor(fast['keypoints']).long()
    kp_equal = (kp_a == kp_b).all(-1)
    # A different argmax is a tie if the naive map is (within 1e-5) as high
    # at the fast keypoint as at its own maximum.
    flat = ma.flatten(2)  # [Q, K, H * W]
    width = ma.shape[-1]
    at_b = flat.gather(2, (kp_b[..., 1] * width + kp_b[..., 0])[..., None])
    tie = at_b[..., 0] >= flat.amax(2) - 1e-5
    return dict(
        loss_max_rel_diff=loss_rel,
        prompt_max_abs_diff=float((pa - pb).abs().max()),
        map_max_abs_diff=map_diff,
        keypoint_agreement=float(kp_equal.float().mean()),
        keypoint_agreement_up_to_ties=float((kp_equal | tie).float().mean()),
        loss_rtol=rtol,
        losses_match=loss_rel is not None and loss_rel <= rtol)


# ------------------------------------------------------------------- main
def _fmt(x, spec='.3f') -> str:
    return '-' if x is None else format(x, spec)


def print_table(report: dict) -> None:
    cfg = report['config']
    print(f"\nPPM episode benchmark: SD {cfg['sd']} on {cfg['device_name']}, "
          f"K={cfg['keypoints']} S={cfg['shots']} Q={cfg['queries']} "
          f"steps={cfg['steps']} input={cfg['input_size']} "
          f"crop={cfg['crop_size']} fast dtype={cfg['fast_dtype_effective']}")
    head = (f"{'run':<22}{'episode s':>11}{'encode s':>10}{'fit s':>10}"
            f"{'steps/s':>10}{'query s':>10}{'q img/s':>10}{'UNet calls':>11}"
            f"{'peak MB':>10}{'+MB':>9}{'speedup':>9}")
    print(head)
    print('-' * len(head))
    for r in report['runs']:
        if r['oom']:
            print(f"{r['label']:<22}  out of memory")
            continue
        print(f"{r['label']:<22}{r['episode_s']:>11.3f}{r['encode_s']:>10.3f}"
              f"{r['fit_s']:>10.3f}{_fmt(r['steps_per_s']):>10}"
              f"{r['query_s']:>10.3f}{_fmt(r['query_images_per_s']):>10}"
              f"{r['unet_calls']:>11}{_fmt(r['peak_mem_mb'], '.0f'):>10}"
              f"{_fmt(r['peak_mem_delta_mb'], '.0f'):>9}"
              f"{_fmt(r.get('speedup_episode'), '.2f'):>9}")
    for c in report['comparisons']:
        print(f"{c['fast']} vs naive: loss max rel diff "
              f"{_fmt(c['loss_max_rel_diff'], '.2e')} "
              f"(tol {c['loss_rtol']:.0e}: "
              f"{'OK' if c['losses_match'] else 'MISMATCH'}"
              f"{'' if c['expected_to_match'] else ', approximation'}), "
              "map max abs diff "
              f"{c['map_max_abs_diff']:.2e}, prompt max abs diff "
              f"{c['prompt_max_abs_diff']:.2e}, same keypoints "
              f"{100 * c['keypoint_agreement']:.0f}% "
              f"({100 * c['keypoint_agreement_up_to_ties']:.0f}% up to "
              'argmax ties)')
    kinds = sorted({r['mem_kind'] for r in report['runs'] if not r['oom']})
    print(f"memory: {', '.join(kinds) or '-'}"
          '; speedup = naive episode s / fast episode s')


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ToolError('--device cuda asked for, but CUDA is not available: '
                        'use --device cpu')
    if args.threads:
        torch.set_num_threads(args.threads)
    effective = args.dtype if device.type == 'cuda' else 'fp32'
    if effective != args.dtype:
        print(
            f'note: --dtype {args.dtype} is ignored on CPU (PPMEstimator '
            'autocasts on CUDA only); the fast path runs fp32',
            flush=True)
    rtol = args.loss_rtol if args.loss_rtol is not None else \
        LOSS_RTOL[effective]
    load_before = os.getloadavg()
    pretrained = resolve_pretrained(args)
    model = build_model(pretrained, args.input_size, args.steps, args.lr,
                        args.seed, args.dtype, args.compile, args.device)
    episode = make_episode(args.keypoints, args.shots, args.queries,
                           args.crop_size, args.seed)

    runs: List[dict] = []
    if 'naive' in args.paths:
        res = measure_or_oom(
            run_naive,
            args,
            episode,
            device,
            model=model,
            attention=args.naive_attention)
        runs.append(
            dict(
                res,
                label=f'naive ({args.naive_attention} attn)',
                path='naive',
                max_batch=1,
                map_mode=EXACT,
                gradient_checkpointing=False,
                dtype='fp32'))
    if 'fast' in args.paths:
        ckpt = dict(
            off=[False], on=[True], both=[False,
                                          True])[args.gradient_checkpointing]
        variants = ([(mode, 0, args.steps, None) for mode in args.map_mode] +
                    [(mode, warm, steps, None) for mode in args.map_mode
                     for warm, steps in args.warm_start] +
                    [(mode, 0, args.steps, n) for mode in args.map_mode
                     for n in args.shots_per_step])
        for mode, warm, steps, per_step in variants:
            for b in args.max_batch:
                for use_ckpt in ckpt:
                    res = measure_or_oom(
                        run_fast,
                        args,
                        episode,
                        device,
                        model=model,
                        max_batch=b,
                        checkpointing=use_ckpt,
                        map_mode=mode,
                        warm_steps=warm,
                        shots_per_step=per_step,
                        steps=steps)
                    label = (
                        f"fast b={b}{' ckpt' if use_ckpt else ''}"
                        f"{' compiled' if args.compile else ''}"
                        f"{'' if mode == EXACT else ' ' + mode}"
                        f'{variant_label(steps, warm, args.steps, per_step)}')
                    runs.append(
                        dict(
                            res,
                            label=label,
                            path='fast',
                            max_batch=b,
                            gradient_checkpointing=use_ckpt,
                            compiled=args.compile,
                            map_mode=mode,
                            warm_steps=warm,
                            shots_per_step=per_step,
                            steps=steps,
                            dtype=effective))

    naive = next((r for r in runs if r['path'] == 'naive'), None)
    comparisons = []
    if naive is not None and naive['oom']:
        naive = None
    for r in runs:
        if naive is not None and r is not naive and not r['oom']:
            r['speedup_episode'] = naive['episode_s'] / r['episode_s']
            r['speedup_steps'] = (
                r['steps_per_s'] / naive['steps_per_s']
                if r['steps_per_s'] and naive['steps_per_s'] else None)
            comparisons.append(
                dict(
                    fast=r['label'],
                    expected_to_match=(r['map_mode'] == EXACT
                                       and not r.get('warm_steps')
                                       and not r.get('shots_per_step')
                                       and r.get('steps') == args.steps),
                    **compare(naive, r, rtol)))
    device_name = (
        torch.cuda.get_device_name(device) if device.type == 'cuda' else
        f'CPU ({platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} logical cores, '
        f'{torch.get_num_threads()} torch threads)')
    report = dict(
        config=dict(
            vars(args),
            sd=args.pretrained or f'random {args.arch} (seed {args.sd_seed})',
            pretrained_path=pretrained,
            device_name=device_name,
            fast_dtype_effective=effective,
            torch=torch.__version__,
            loadavg_before=load_before,
            loadavg_after=os.getloadavg()),
        runs=[{
            k: v
            for k, v in r.items() if k not in ('prompts', 'maps', 'keypoints')
        } for r in runs],
        comparisons=comparisons)
    print_table(report)
    print(f"load average (1/5/15 min) before {load_before}, after "
          f"{report['config']['loadavg_after']}")
    if args.out:
        write_json(report, args.out)
    return report


if __name__ == '__main__':
    run_tool(main)
