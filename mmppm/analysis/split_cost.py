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
from typing import Callable, Dict, Sequence, Tuple

import torch

from mmppm.models.map_modes import maps_from_queries

#: The pieces of an episode whose FLOPs are counted: VAE encode, UNet
#: forward + backward to the prompt (``exact``: one step of one pair), UNet
#: forward (one query map), and for ``cached`` one feature pass and the map
#: arithmetic of one pair (forward + backward, forward).
PIECES = ('vae_encode', 'unet_fwd_bwd', 'unet_fwd', 'features', 'maps_fwd_bwd',
          'maps_fwd')


def episode_flops(pieces: Dict[str, float], keypoints: int, shots: int,
                  queries: int, steps: int, variant: str) -> float:
    """FLOPs of one episode from per-image / per-pair pieces.

    Args:
        pieces (dict): FLOPs of each of :data:`PIECES` for one image (VAE,
            features) or one (prompt, image) pair (the rest).
        keypoints, shots, queries, steps (int): Episode size.
        variant (str): ``'exact'`` (one UNet pass per pair and step) or
            ``'cached'`` (one feature pass per image, maps by matmul).
    """
    pairs, images = keypoints * shots, shots + queries
    encode = images * pieces['vae_encode']
    if variant == 'exact':
        return (encode + steps * pairs * pieces['unet_fwd_bwd'] +
                queries * keypoints * pieces['unet_fwd'])
    if variant == 'cached':
        return (encode + images * pieces['features'] +
                steps * pairs * pieces['maps_fwd_bwd'] +
                queries * keypoints * pieces['maps_fwd'])
    raise ValueError(f'unknown variant {variant!r}')


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


def count_pieces(model, input_size: int, crop_size: int) -> Dict[str, int]:
    """Counted FLOPs of every piece in :data:`PIECES` (see module doc)."""
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
    return out
