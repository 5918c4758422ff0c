# Copyright (c) mmppm contributors. All rights reserved.
"""Map-matching objectives of the prompt fit (paper Eq. 4 and options).

Each takes maps and Gaussian targets ``[N, H, W]`` and returns one loss per
(prompt, image) pair ``[N]``; the registered losses of
:mod:`mmppm.models.losses` wrap them. docs/method.md compares them.
"""
from typing import Callable, Optional

import numpy as np
from torch import Tensor

_EPS = 1e-8


def mse_map_loss(maps: Tensor, targets: Tensor) -> Tensor:
    """Paper Eq. 4: the mean squared error over pixels."""
    return (maps.float() - targets.float()).pow(2).flatten(1).mean(1)


def balanced_mse_map_loss(maps: Tensor, targets: Tensor) -> Tensor:
    """Foreground-weighted MSE: target mass and background count equally.

    Pixel weights ``w = t / sum(t) + (1 - t) / sum(1 - t)``, halved, so a
    small Gaussian's pixels weigh as much as the rest of the map together
    (with the plain mean an all-zero map already scores close to a perfect
    one and low peaks in the wrong place are accepted).
    """
    t = targets.float().flatten(1)
    err = (maps.float().flatten(1) - t).pow(2)
    fg = t / t.sum(1, keepdim=True).clamp(min=_EPS)
    bg = (1 - t) / (1 - t).sum(1, keepdim=True).clamp(min=_EPS)
    return (0.5 * (fg + bg) * err).sum(1)


def normalized_ce_map_loss(maps: Tensor, targets: Tensor) -> Tensor:
    """Cross-entropy between the target and the map, both normalised to
    distributions over pixels (the softmax cross-entropy of StableKeypoints
    and LDM-correspondence, applied to the sigmoid map: for low map values
    ``log sigmoid(a) ~ a``, so it is a softmax over the logits and does not
    saturate)."""
    m = maps.float().flatten(1).clamp(min=_EPS)
    t = targets.float().flatten(1)
    t = t / t.sum(1, keepdim=True).clamp(min=_EPS)
    log_p = m.log() - m.sum(1, keepdim=True).log()
    return -(t * log_p).sum(1)


def map_loss_vs_zero(maps: np.ndarray,
                     targets: np.ndarray,
                     visible: np.ndarray,
                     loss_fn: Optional[Callable] = None) -> float:
    """The map loss of the fit over that of an all-zero map.

    With a small Gaussian target the paper's MSE is dominated by the
    background: an all-zero map scores close to a perfect one. This ratio
    says how far below that trivial answer the fit went: ``1`` is no better
    than all zeros, ``0`` a perfect fit under the MSE (for the normalised
    cross-entropy an all-zero map is the uniform distribution and the floor
    is the target's entropy over ``log(H W)``).

    Args:
        maps (np.ndarray): ``[S, K, H, W]`` maps on the supports.
        targets (np.ndarray): ``[S, K, H, W]`` Gaussian targets.
        visible (np.ndarray): ``[S, K]``; only visible pairs count.
        loss_fn (Callable, optional): ``loss_fn(maps [N, H, W], targets
            [N, H, W]) -> [N]`` (numpy in, numpy out). Defaults to the
            squared error summed over pixels.

    Returns:
        float: The ratio (``nan`` where no pair is visible).
    """
    mask = np.asarray(visible).reshape(maps.shape[:2]) > 0
    if not mask.any():
        return float('nan')
    maps = np.asarray(maps, np.float64)[mask]
    targets = np.asarray(targets, np.float64)[mask]
    if loss_fn is None:

        def loss_fn(m, t):
            return ((m - t)**2).reshape(len(m), -1).sum(1)

    zero = float(np.sum(loss_fn(np.zeros_like(maps), targets)))
    return float(np.sum(loss_fn(maps, targets)) / max(zero, 1e-12))
