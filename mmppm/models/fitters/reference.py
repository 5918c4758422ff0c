# Copyright (c) mmppm contributors. All rights reserved.
"""The reference implementation of a PPM episode: paper Eq. 4 as a plain
loop, the statement the fast paths (:class:`PromptFitter` with
:class:`~mmppm.models.map_modes.ExactMaps`) are tested against.

One UNet call per (keypoint, support image) pair per step, the supports
re-encoded by the VAE at every step, the paper's MSE on the map and on the
diffusion target, each pair's loss divided by the number of images where
its keypoint is visible and back-propagated at once; then one UNet call per
(query, keypoint) pair. It draws its randomness in the fast path's order
(prompt init, then each step's noise, then the queries' noise), so with
the same generator seed both give the same losses, prompts and maps (up to
float rounding). Slow by design: for tests and
``tools/analysis/benchmark_episode.py``, never for runs.
"""
from contextlib import nullcontext
from typing import Callable, ContextManager, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..utils import diffusion_target


def naive_episode(
        model,
        images: Tensor,
        targets: Tensor,
        visible: Tensor,
        steps: int,
        generator: torch.Generator,
        phase: Optional[Callable[[str], ContextManager]] = None) -> dict:
    """Fit prompts on the supports and map them on the queries, naively.

    Args:
        model (PPMEstimator): Its backbone, head (``loss_dm_weight``,
            ``decode``) and fitter (``lr``, ``prompt_init_std``); the
            prompts are the context as they are (plain PPM, fp32).
        images (Tensor): ``[S + Q, 3, H, W]`` in [-1, 1], supports first.
        targets (Tensor): ``[S, K, H, W]`` Gaussian targets (map size).
        visible (Tensor): ``[S, K]``; pairs with 0 give no loss.
        steps (int): Adam steps.
        generator (torch.Generator): CPU generator of the init and noise.
        phase (callable, optional): ``phase(name)`` -> context manager
            around the ``'fit'``, ``'encode'`` (queries) and ``'query'``
            phases (e.g. a timer). Defaults to none.

    Returns:
        dict: ``losses`` (per step), ``prompts`` ``[K, 1, c]``, query
        ``maps`` ``[Q, K, H, W]``, ``keypoints`` ``[Q, K, 2]`` (the head's
        decoding) and ``unet_calls``.
    """
    phase = phase or (lambda name: nullcontext())
    backbone, device = model.backbone, images.device
    targets = targets.to(device)
    num_shots, num_kpts = visible.shape
    map_size = tuple(targets.shape[-2:])
    lam = model.head.loss_dm_weight
    g = generator
    c = backbone.cross_attention_dim
    calls = 0
    with phase('fit'):
        prompts = (
            torch.randn(num_kpts, 1, c, generator=g) *
            model.fitter.prompt_init_std).to(device).requires_grad_(True)
        optimizer = torch.optim.Adam([prompts], lr=model.fitter.lr)
        losses = []
        for _ in range(steps):
            latents = backbone.encode(images[:num_shots])  # every step
            noise = torch.randn(latents.shape, generator=g).to(device)
            t = torch.full((num_shots, ), backbone.timestep, device=device)
            noisy = backbone.scheduler.add_noise(latents, noise, t)
            target = diffusion_target(  # eps, or v for a v-prediction SD
                backbone.prediction_type, latents, noise,
                backbone.scheduler.alphas_cumprod.to(device)[t])
            optimizer.zero_grad()
            total = 0.
            for k in range(num_kpts):
                shots = [s for s in range(num_shots) if visible[s, k] > 0]
                for s in shots:
                    out = backbone(noisy[s:s + 1], prompts[k:k + 1], map_size)
                    calls += 1
                    loss = (F.mse_loss(out['maps'][0, 0], targets[s, k]) +
                            lam * F.mse_loss(out['dm_pred'], target[s:s + 1])
                            ) / len(shots)
                    loss.backward()
                    total += float(loss.detach())
            optimizer.step()
            losses.append(total)
    with torch.no_grad():
        with phase('encode'):
            q_latents = backbone.encode(images[num_shots:])
        with phase('query'):
            num_q = q_latents.shape[0]
            noise = torch.randn(q_latents.shape, generator=g).to(device)
            t = torch.full((num_q, ), backbone.timestep, device=device)
            noisy = backbone.scheduler.add_noise(q_latents, noise, t)
            maps = torch.empty(num_q, num_kpts, *map_size, device=device)
            for q in range(num_q):
                for k in range(num_kpts):
                    out = backbone(noisy[q:q + 1], prompts[k:k + 1], map_size)
                    calls += 1
                    maps[q, k] = out['maps'][0, 0].float()
            keypoints, _ = model.head.decode(maps)
    return dict(
        losses=losses,
        prompts=prompts.detach(),
        maps=maps,
        keypoints=keypoints,
        unet_calls=calls)
