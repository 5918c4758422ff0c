# Copyright (c) mmppm contributors. All rights reserved.
"""How far below an all-zero map the fit's map loss went (the fit
diagnostics, docs/method.md). The objectives themselves are the registered
losses of :mod:`mmppm.models.losses`."""
from typing import Callable, Optional

import numpy as np


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
