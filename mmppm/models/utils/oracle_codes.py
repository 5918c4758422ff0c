# Copyright (c) mmppm contributors. All rights reserved.
"""Pure functions behind the oracle diffusion models (docs/oracles.md).

An oracle plants a known *code* ``z(x)`` in prompt space (``c`` channels, the
UNet's ``cross_attention_dim``) at every latent pixel ``x`` and adds to each
captured layer's queries the vector ``q_z(x)`` whose map logit against a
prompt ``P`` is exactly ``gain * z(x) . P`` (paper Eq. 2 with the head mean).
Whether a prompt that peaks at a keypoint *can* exist is then known.
"""
import math
from typing import Tuple

import numpy as np
import torch
from torch import Tensor


def orthonormal_basis(dims: int, num: int, seed: int) -> Tensor:
    """``num`` orthonormal vectors in ``dims`` dimensions, ``[num, dims]``.

    A seeded random rotation, so codes are not aligned with the prompt's
    coordinates (Adam is per coordinate; an axis-aligned code would make
    the oracle easier than a real model).
    """
    if num > dims:
        raise ValueError(f'Cannot build {num} orthonormal vectors in {dims} '
                         'dimensions')
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(dims, dims, generator=g))
    return q[:, :num].t().contiguous()


def fourier_position_codes(height: int, width: int, freqs: Tensor) -> Tensor:
    """A constant plus cos/sin Fourier features of the pixel position.

    Args:
        height (int): Map height h.
        width (int): Map width w.
        freqs (Tensor): ``[F, 2]`` frequencies in cycles per map side
            ``(f_x, f_y)``.

    Returns:
        Tensor: ``[1 + 2F, h, w]``: channel 0 is ``1``; then ``cos`` and
        ``sin`` of ``2 pi (f . x)`` scaled by ``1 / sqrt(F)``, so that the
        dot product of two positions' features is ``1 + mean_f cos(2 pi f .
        (x - x'))``: a shift-invariant kernel that peaks where ``x = x'``.
    """
    ys = (torch.arange(height, dtype=torch.float32) + 0.5) / height
    xs = (torch.arange(width, dtype=torch.float32) + 0.5) / width
    grid = torch.stack(torch.meshgrid(xs, ys, indexing='xy'), -1)  # [h, w, 2]
    phase = 2 * math.pi * grid @ freqs.t().float()  # [h, w, F]
    scale = 1.0 / math.sqrt(freqs.shape[0])
    feats = torch.cat([torch.cos(phase), torch.sin(phase)], -1) * scale
    ones = torch.ones(height, width, 1)
    return torch.cat([ones, feats], -1).permute(2, 0, 1).contiguous()


def part_codes(keypoints: np.ndarray, visible: np.ndarray, hw: Tuple[int, int],
               sigma: float) -> Tensor:
    """Per-keypoint Gaussian blobs on a map: ``[K, h, w]``.

    Args:
        keypoints (np.ndarray): ``[K, 2]`` keypoint ``(x, y)`` in map pixels
            (pixel centres at integer + 0.5 convention: pixel i spans
            ``[i, i + 1)``).
        visible (np.ndarray): ``[K]``; invisible keypoints get no blob.
        hw (tuple[int, int]): ``(h, w)``.
        sigma (float): Blob sigma in map pixels.

    Returns:
        Tensor: ``[K, h, w]``, 1 at each visible keypoint's centre.
    """
    h, w = hw
    ys = torch.arange(h, dtype=torch.float32) + 0.5
    xs = torch.arange(w, dtype=torch.float32) + 0.5
    kp = torch.as_tensor(np.asarray(keypoints, np.float32)).reshape(-1, 2)
    dx = xs[None, None, :] - kp[:, 0, None, None]  # [K, 1, w]
    dy = ys[None, :, None] - kp[:, 1, None, None]  # [K, h, 1]
    blobs = torch.exp(-(dx.pow(2) + dy.pow(2)) / (2 * sigma**2))
    vis = torch.as_tensor(np.asarray(visible).reshape(-1) > 0)
    return blobs * vis[:, None, None].float()


def code_lift(key_weight: Tensor) -> Tensor:
    """``pinv(W_k^T)``, ``[inner, c]``, of a layer's ``to_k`` weight
    ``[inner, c]``: what :func:`code_queries` multiplies the codes by (the
    weights are frozen, so a layer's lift is computed once)."""
    return torch.linalg.pinv(key_weight.t().float())


def code_queries(codes: Tensor, lift: Tensor, heads: int,
                 gain: float) -> Tensor:
    """Queries whose map logit against any prompt is ``gain * code . P``.

    With ``k = W_k P`` and the head-mean logit ``q . k / (heads sqrt(d))``
    (paper Eq. 2), ``q = gain * heads * sqrt(d) * pinv(W_k^T) z`` gives
    ``W_k^T q = gain * heads * sqrt(d) * z`` whenever ``W_k`` has full column
    rank (inner channels >= c), hence the logit ``gain * z . P``. Otherwise
    it is the least-squares closest code.

    Args:
        codes (Tensor): ``[B, N, c]`` codes per pixel.
        lift (Tensor): :func:`code_lift` of the layer's ``to_k`` weight,
            ``[inner, c]``.
        heads (int): Attention heads.
        gain (float): Logit per unit of ``z . P``.

    Returns:
        Tensor: ``[B, N, inner]``.
    """
    d_head = lift.shape[0] // heads
    scale = gain * heads * math.sqrt(d_head)
    return scale * codes.float() @ lift.t().to(codes.device)
