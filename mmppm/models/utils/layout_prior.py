# Copyright (c) mmppm contributors. All rights reserved.
"""Where the support's layout puts each keypoint on a query (pure
functions of :class:`~mmppm.models.fusions.SupportLayoutPrior`, beyond the
paper)."""
from typing import Tuple

import torch
from torch import Tensor


def fit_similarity(src: Tensor, dst: Tensor,
                   weights: Tensor) -> Tuple[Tensor, Tensor]:
    """The similarity ``x -> A x + t`` (rotation, one scale, translation; no
    reflection) minimising ``sum_k w_k |A src_k + t - dst_k|^2``.

    Args:
        src (Tensor): ``[K, 2]`` points.
        dst (Tensor): ``[K, 2]`` their images.
        weights (Tensor): ``[K]`` non-negative weights, at least two > 0.

    Returns:
        tuple[Tensor, Tensor]: ``A`` ``[2, 2]`` (``[[a, -b], [b, a]]``) and
        ``t`` ``[2]``.
    """
    src, dst, weights = src.double(), dst.double(), weights.double()
    total = weights.sum()
    src_mean = (weights[:, None] * src).sum(0) / total
    dst_mean = (weights[:, None] * dst).sum(0) / total
    s, d = src - src_mean, dst - dst_mean
    # closed form of the weighted Procrustes problem in the complex plane:
    # (a + ib) = sum w conj(s) d / sum w |s|^2
    norm = (weights * (s**2).sum(1)).sum().clamp(min=1e-12)
    a = (weights * (s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1])).sum() / norm
    b = (weights * (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0])).sum() / norm
    mat = torch.stack([torch.stack([a, -b]), torch.stack([b, a])])
    return mat, dst_mean - mat @ src_mean


def robust_similarity(src: Tensor,
                      dst: Tensor,
                      visible: Tensor,
                      scale: float,
                      iterations: int = 5) -> Tuple[Tensor, Tensor]:
    """:func:`fit_similarity` by iteratively reweighted least squares with
    Cauchy weights ``1 / (1 + (r / scale)^2)`` of the residuals ``r``: a
    keypoint found on the wrong part (a twin's place) is an outlier, not a
    pull on the transform.

    Args:
        src (Tensor): ``[K, 2]`` support keypoints.
        dst (Tensor): ``[K, 2]`` their first guesses on the query.
        visible (Tensor): ``[K]`` bool, the keypoints that take part (at
            least two).
        scale (float): The residual (pixels) whose weight is 1/2.
        iterations (int): Reweighting rounds. Defaults to 5.

    Returns:
        tuple[Tensor, Tensor]: ``A`` ``[2, 2]`` and ``t`` ``[2]``.
    """
    weights = visible.double()
    for _ in range(iterations):
        mat, shift = fit_similarity(src, dst, weights)
        residual = (src.double() @ mat.T + shift - dst.double()).norm(dim=1)
        weights = visible.double() / (1 + (residual / scale)**2)
    return fit_similarity(src, dst, weights)


def layout_means(support_xy: Tensor,
                 support_visible: Tensor,
                 guesses: Tensor,
                 scale: float,
                 iterations: int = 5) -> Tuple[Tensor, Tensor]:
    """Each keypoint's place on each query by the supports' layouts.

    For every query and support, a robust similarity
    (:func:`robust_similarity`) carries the support's visible keypoints
    onto the query's first guesses; a keypoint's place is the mean over the
    supports where it is visible of its carried position.

    Args:
        support_xy (Tensor): ``[S, K, 2]`` support keypoints (map pixels).
        support_visible (Tensor): ``[S, K]`` bool.
        guesses (Tensor): ``[Q, K, 2]`` first guesses on the queries.
        scale (float): :func:`robust_similarity`'s residual scale (pixels).
        iterations (int): Reweighting rounds. Defaults to 5.

    Returns:
        tuple[Tensor, Tensor]: ``[Q, K, 2]`` places and ``[K]`` bool, the
        keypoints that have one (visible in a support that has two or more
        visible keypoints).
    """
    num_q, num_k = guesses.shape[:2]
    total = torch.zeros(num_q, num_k, 2, dtype=torch.float64)
    count = torch.zeros(num_k, dtype=torch.float64)
    for s in range(support_xy.shape[0]):
        visible = support_visible[s].bool()
        if int(visible.sum()) < 2:
            continue
        for q in range(num_q):
            mat, shift = robust_similarity(support_xy[s], guesses[q], visible,
                                           scale, iterations)
            carried = support_xy[s].double() @ mat.T + shift
            total[q] += carried * visible[:, None]
        count += visible.double()
    has_place = count > 0
    return total / count.clamp(min=1)[None, :, None], has_place


def gaussian_log_prior(places: Tensor, has_place: Tensor, sigma: float,
                       map_size: Tuple[int, int]) -> Tensor:
    """``-|x - place|^2 / (2 sigma^2)`` over the map's pixels, ``[Q, K, H,
    W]`` (float32); zero (no preference) for keypoints without a place.
    Separable: the sum of an x term ``[Q, K, 1, W]`` and a y term ``[Q, K,
    H, 1]``, broadcast once.

    Args:
        places (Tensor): ``[Q, K, 2]`` (x, y) map pixels.
        has_place (Tensor): ``[K]`` bool.
        sigma (float): In pixels.
        map_size (tuple[int, int]): ``(H, W)``.
    """
    h, w = map_size
    places = places.float()
    keep = has_place.float()[None, :, None]  # [1, K, 1]
    xs = torch.arange(w, dtype=torch.float32)
    ys = torch.arange(h, dtype=torch.float32)
    log_x = -(xs - places[..., 0, None])**2 / (2 * sigma**2) * keep
    log_y = -(ys - places[..., 1, None])**2 / (2 * sigma**2) * keep
    return log_y[..., :, None] + log_x[..., None, :]
