# Copyright (c) mmppm contributors. All rights reserved.
"""The GPU cost of a whole MP-100 split, projected from counted FLOPs
(``tools/analysis/project_split_cost.py``).

A projection, not a measurement. FLOPs are *counted*
(``torch.utils.flop_counter.FlopCounterMode``, SDPA forced through its math
backend so attention is counted too) for the pieces of one PPM episode
(:data:`PIECES`, :func:`count_pieces`), each for one image or one (prompt,
image) pair; episode FLOPs for K keypoints, S shots, Q queries and T steps
follow (:func:`episode_flops`), and seconds are FLOPs over an assumed
sustained throughput (:func:`seconds_at`). Peak memory is fitted as
``base + per_pair * max_batch`` (:func:`fit_memory`,
:func:`largest_batch_within`).
"""
import math
from typing import Callable, Dict, Optional, Sequence, Tuple

import torch

from mmppm.models.map_modes import maps_from_queries

#: The pieces of an episode whose FLOPs are counted: VAE encode, UNet
#: forward + backward to the prompt (``exact``: one step of one pair), UNet
#: forward (one query map), for ``cached`` one feature pass and the map
#: arithmetic of one pair (forward + backward, forward), and for
#: ``shared_context`` one UNet pass of one image with all K prompts as its
#: context tokens (forward + backward, forward).
PIECES = ('vae_encode', 'unet_fwd_bwd', 'unet_fwd', 'features', 'maps_fwd_bwd',
          'maps_fwd', 'shared_fwd_bwd', 'shared_fwd')
#: Map modes :func:`fit_flops` and :func:`query_flops` count.
MODES = ('exact', 'cached', 'shared_context')


def fit_flops(pieces: Dict[str, float],
              mode: str,
              keypoints: int,
              shots: int,
              steps: int,
              shots_per_step: Optional[int] = None) -> float:
    """FLOPs of ``steps`` fit steps over ``keypoints x shots`` pairs.

    ``exact``: one UNet forward + backward per pair and step; ``cached``:
    one feature pass per support image, then the map arithmetic per pair
    and step; ``shared_context``: one UNet forward + backward per support
    image and step, all prompts as its context tokens. With
    ``shots_per_step`` (``PromptFitter``'s), each step works on that many
    of the shots (the cached features are still computed for all).
    """
    per_step = shots if shots_per_step is None else min(shots, shots_per_step)
    if mode == 'exact':
        return steps * keypoints * per_step * pieces['unet_fwd_bwd']
    if mode == 'cached':
        return (shots * pieces['features'] +
                steps * keypoints * per_step * pieces['maps_fwd_bwd'])
    if mode == 'shared_context':
        return steps * per_step * pieces['shared_fwd_bwd']
    raise ValueError(f'unknown map mode {mode!r}; one of {MODES}')


def query_flops(pieces: Dict[str, float], mode: str, keypoints: int,
                queries: int) -> float:
    """FLOPs of the maps of ``keypoints`` prompts on ``queries`` images."""
    if mode == 'exact':
        return queries * keypoints * pieces['unet_fwd']
    if mode == 'cached':
        return queries * (pieces['features'] + keypoints * pieces['maps_fwd'])
    if mode == 'shared_context':
        return queries * pieces['shared_fwd']
    raise ValueError(f'unknown map mode {mode!r}; one of {MODES}')


def episode_flops(pieces: Dict[str, float],
                  keypoints: int,
                  shots: int,
                  queries: int,
                  steps: int,
                  variant: str,
                  warm_steps: int = 0,
                  shots_per_step: Optional[int] = None) -> float:
    """FLOPs of one episode from per-image / per-pair pieces: the VAE
    encodings, the fit (``warm_steps`` cached steps first, as
    ``WarmStartFitter``'s default first stage, then ``steps`` in the
    ``variant`` map mode) and the query maps (in ``variant``).

    Args:
        pieces (dict): FLOPs of each of :data:`PIECES` for one image (VAE,
            features, shared-context passes) or one (prompt, image) pair
            (the rest).
        keypoints, shots, queries, steps (int): Episode size.
        variant (str): The map mode, one of :data:`MODES`.
        warm_steps (int): Cached steps before ``steps``. Defaults to 0.
        shots_per_step (int, optional): Shots each step of ``steps`` works
            on (:func:`fit_flops`). Defaults to all.
    """
    encode = (shots + queries) * pieces['vae_encode']
    warm = fit_flops(pieces, 'cached', keypoints, shots,
                     warm_steps) if warm_steps else 0.
    return (
        encode + warm +
        fit_flops(pieces, variant, keypoints, shots, steps, shots_per_step) +
        query_flops(pieces, variant, keypoints, queries))


def seconds_at(flops: float, tflops: float) -> float:
    """Seconds to run ``flops`` at a sustained ``tflops`` TFLOP/s."""
    return flops / (tflops * 1e12)


def fit_memory(points: Sequence[Tuple[int, float]]) -> Tuple[float, float]:
    """Least-squares ``peak = base + per_pair * max_batch``.

    Args:
        points: ``(max_batch, peak_mb)`` pairs, at least two batch sizes.

    Returns:
        tuple[float, float]: ``(base_mb, per_pair_mb)``.
    """
    xs = [float(b) for b, _ in points]
    if len(set(xs)) < 2:
        raise ValueError('fit_memory needs peaks at two or more max_batch '
                         f'values, got {sorted(set(xs))}')
    ys = [float(p) for _, p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
        (x - mx)**2 for x in xs)
    return my - slope * mx, slope


def largest_batch_within(budget_mb: float, base_mb: float,
                         per_pair_mb: float) -> int:
    """Largest ``max_batch`` whose projected peak fits ``budget_mb``."""
    if per_pair_mb <= 0:
        raise ValueError(f'per-pair memory must be > 0, got {per_pair_mb}')
    return max(0, math.floor((budget_mb - base_mb) / per_pair_mb))


def count_flops(fn: Callable[[], object]) -> Tuple[int, object]:
    """FLOPs of ``fn()``, attention included (SDPA's math backend), and
    what ``fn()`` returned."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc:
        result = fn()
    return fc.get_total_flops(), result


def count_pieces(model,
                 input_size: int,
                 crop_size: int,
                 keypoints: int = 17) -> Dict[str, int]:
    """Counted FLOPs of every piece in :data:`PIECES` (see module doc);
    the shared-context passes with ``keypoints`` context tokens."""
    backbone, head = model.backbone, model.head
    device = backbone.unet.device  # 'meta' for a random architecture
    g = torch.Generator().manual_seed(0)
    image = (torch.rand(1, 3, crop_size, crop_size, generator=g) * 2 -
             1).to(device)
    target = torch.rand(1, crop_size, crop_size, generator=g).to(device)
    map_size = (crop_size, crop_size)
    c = backbone.cross_attention_dim
    out: Dict[str, int] = {}
    out['vae_encode'], latents = count_flops(lambda: backbone.encode(image))
    noisy, dm_target = backbone.add_noise(latents, g)
    prompt = torch.randn(1, 1, c, generator=g).to(device)
    ids = torch.zeros(1, dtype=torch.long, device=device)
    weight = torch.ones(1, device=device)

    def fwd_bwd():
        p = prompt.clone().requires_grad_(True)
        res = backbone(noisy, model.context(p), map_size)
        loss = sum(
            head.loss(res['maps'][:, 0], target, res['dm_pred'], dm_target,
                      weight).values())
        loss.backward()  # (autograd.grad trips FlopCounterMode)

    def maps_fwd_bwd():
        p = prompt.clone().requires_grad_(True)
        maps = maps_from_queries(backbone, cached, model.context(p), ids, ids,
                                 map_size)
        loss = sum(head.loss(maps, target, None, None, weight).values())
        loss.backward()  # (autograd.grad trips FlopCounterMode)

    out['unet_fwd_bwd'], _ = count_flops(fwd_bwd)
    with torch.no_grad():
        out['unet_fwd'], _ = count_flops(
            lambda: backbone(noisy, model.context(prompt), map_size))
        out['features'], cached = count_flops(lambda: backbone.layer_queries(
            noisy, model.context(torch.zeros_like(prompt))))
        out['maps_fwd'], _ = count_flops(lambda: maps_from_queries(
            backbone, cached, model.context(prompt), ids, ids, map_size))
    out['maps_fwd_bwd'], _ = count_flops(maps_fwd_bwd)

    # shared context: one image, all K prompts as its context tokens, the
    # K maps' loss and the diffusion term (SharedContextMaps)
    prompts = torch.randn(1, keypoints, c, generator=g).to(device)
    targets = target.expand(keypoints, -1, -1)
    kpt_ids = torch.arange(keypoints, device=device)

    def shared_fwd_bwd():
        p = prompts.clone().requires_grad_(True)
        res = backbone(noisy, p, map_size)
        loss = sum(
            head.loss(res['maps'][0, kpt_ids], targets, res['dm_pred'],
                      dm_target, weight.expand(keypoints)).values())
        loss.backward()

    out['shared_fwd_bwd'], _ = count_flops(shared_fwd_bwd)
    with torch.no_grad():
        out['shared_fwd'], _ = count_flops(
            lambda: backbone(noisy, prompts, map_size))
    return out
