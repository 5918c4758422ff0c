# Copyright (c) mmppm contributors. All rights reserved.
"""Did the prompts fit their supports? (docs/method.md, "Fit diagnostics")

Pure numpy functions on the maps of the learned prompts over the support
images they were fitted on.
"""
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


def peak_contrast(maps: np.ndarray, keypoints: np.ndarray,
                  radius: float) -> tuple:
    """Map value at the ground truth vs the best value elsewhere.

    Args:
        maps (np.ndarray): ``[S, K, H, W]``.
        keypoints (np.ndarray): ``[S, K, 2]`` ground truth ``(x, y)`` in map
            pixels.
        radius (float): Pixels within this distance of the keypoint are
            not "elsewhere".

    Returns:
        tuple[np.ndarray, np.ndarray]: ``at_gt`` and ``best_elsewhere``,
        both ``[S, K]``. A fit is sound where ``at_gt > best_elsewhere``.
    """
    maps = np.asarray(maps, np.float64)
    s_num, k_num, h, w = maps.shape
    kp = np.asarray(keypoints, np.float64).reshape(s_num, k_num, 2)
    ys, xs = np.mgrid[0:h, 0:w]
    at_gt = np.zeros((s_num, k_num))
    elsewhere = np.zeros((s_num, k_num))
    for s in range(s_num):
        for k in range(k_num):
            x, y = kp[s, k]
            xi = int(np.clip(np.round(x), 0, w - 1))
            yi = int(np.clip(np.round(y), 0, h - 1))
            at_gt[s, k] = maps[s, k, yi, xi]
            far = (xs - x)**2 + (ys - y)**2 > radius**2
            elsewhere[s, k] = maps[s, k][far].max() if far.any() else 0.
    return at_gt, elsewhere
