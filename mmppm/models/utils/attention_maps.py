# Copyright (c) mmppm contributors. All rights reserved.
"""Pure functions for cross-attention maps (paper Eq. 2 and Eq. 3).

Nothing here knows about diffusers or mmengine: tensors in, tensors out.
"""
import math
from typing import Dict, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

MAP_REDUCTIONS = ('head_mean', 'sigmoid_head_mean')


def cross_attn_map(query: Tensor,
                   key: Tensor,
                   heads: int,
                   reduction: str = 'head_mean') -> Tensor:
    """Map of each context token over the pixels of one attention layer.

    With per-head scores ``s_h = q_h . k_h / sqrt(d_head)``:

    - ``'head_mean'`` (default, paper Eq. 2): ``sigmoid(mean_h s_h)``. Because
      the mean of per-head dot products is one dot product over all channels,
      this is ``sigmoid(q . k / (heads * sqrt(d_head)))``: a single matmul, no
      per-head score tensor.
    - ``'sigmoid_head_mean'``: ``mean_h sigmoid(s_h)`` (the other reading of
      "average along the channel dimension"); materialises per-head scores.

    Sigmoid, not softmax: with a single-token context a softmax is identically
    1 and carries no gradient.

    Args:
        query (Tensor): ``to_q`` output, ``[B, N, heads * d_head]``.
        key (Tensor): ``to_k`` output of the tokens to map, ``[B, T, heads *
            d_head]``.
        heads (int): Number of attention heads.
        reduction (str): One of :data:`MAP_REDUCTIONS`. Defaults to
            ``'head_mean'``.

    Returns:
        Tensor: Maps in (0, 1), ``[B, T, N]``.
    """
    inner = query.shape[-1]
    d_head = inner // heads
    if reduction == 'head_mean':
        return torch.sigmoid(cross_attn_logits(query, key, heads))
    if reduction == 'sigmoid_head_mean':
        b, n, _ = query.shape
        t = key.shape[1]
        q = query.reshape(b, n, heads, d_head)
        k = key.reshape(b, t, heads, d_head)
        scores = torch.einsum('bthd,bnhd->bhtn', k, q) / math.sqrt(d_head)
        return torch.sigmoid(scores).mean(dim=1)  # [B, T, N]
    raise ValueError(f'Unknown map reduction {reduction!r}; '
                     f'choose one of {MAP_REDUCTIONS}')


def cross_attn_logits(query: Tensor, key: Tensor, heads: int) -> Tensor:
    """Head-mean logits ``mean_h q_h . k_h / sqrt(d_head)`` of every token
    at every pixel, ``[B, T, N]``: the argument of the sigmoid of paper
    Eq. 2 (``'head_mean'``), one matmul (see :func:`cross_attn_map`).

    Args:
        query (Tensor): ``[B, N, heads * d_head]``.
        key (Tensor): ``[B, T, heads * d_head]``.
        heads (int): Number of attention heads.
    """
    d_head = query.shape[-1] // heads
    scores = torch.bmm(key, query.transpose(1, 2))  # [B, T, N]
    return scores / (heads * math.sqrt(d_head))


def infer_map_hw(num_pixels: int, latent_hw: Tuple[int,
                                                   int]) -> Tuple[int, int]:
    """Height and width of a UNet feature map from its pixel count.

    UNet levels downsample the latent by powers of two, so the level's shape
    is the latent shape divided by ``sqrt(latent pixels / num_pixels)``
    (rounded up, as strided convolutions do for odd sizes).

    Args:
        num_pixels (int): ``h_l * w_l`` of the layer.
        latent_hw (tuple[int, int]): ``(h, w)`` of the UNet input latent.

    Returns:
        tuple[int, int]: ``(h_l, w_l)``.
    """
    h, w = latent_hw
    factor = 1
    while math.ceil(h / factor) * math.ceil(w / factor) > num_pixels:
        factor *= 2
    hl, wl = math.ceil(h / factor), math.ceil(w / factor)
    if hl * wl != num_pixels:
        raise ValueError(f'Cannot infer the shape of a {num_pixels}-pixel '
                         f'feature map from latent size {latent_hw}')
    return hl, wl


def aggregate_layer_maps(layer_maps: Dict[str, Tensor],
                         size: Sequence[int],
                         names: Sequence[str] = None) -> Tensor:
    """Multi-layer map (paper Eq. 3): bilinear upsampling, then the mean.

    Args:
        layer_maps (dict[str, Tensor]): Per-layer maps ``[B, T, h_l, w_l]``.
        size (Sequence[int]): Output ``(H, W)``.
        names (Sequence[str], optional): Layers to average. Defaults to all.

    Returns:
        Tensor: ``[B, T, H, W]``.
    """
    names = list(layer_maps) if names is None else list(names)
    if not names:
        raise ValueError('No attention maps to aggregate')
    # Bilinear resizing is linear: summing same-resolution maps first and
    # upsampling each group once is exact and avoids one resize per layer.
    groups: Dict[Tuple[int, int], Tensor] = {}
    for name in names:
        m = layer_maps[name]
        hw = tuple(m.shape[-2:])
        groups[hw] = m if hw not in groups else groups[hw] + m
    total = None
    for (hl, wl), m in groups.items():
        b, t = m.shape[:2]
        up = F.interpolate(
            m.reshape(b * t, 1, hl, wl),
            size=tuple(size),
            mode='bilinear',
            align_corners=False).reshape(b, t, *size)
        total = up if total is None else total + up
    return total / len(names)


def logit_sensitivity(query: Tensor, key_weight: Tensor, heads: int) -> Tensor:
    """How much a layer's map logits vary over pixels per unit of prompt.

    The head-mean logit of Eq. 2 is ``f(x) . P`` with ``f(x) = W_k^T q(x) /
    (heads sqrt(d))``. The root mean square over pixels of ``||f(x) -
    mean_x f||`` is the spread of logits a unit-norm prompt can make across
    the image: how far a prompt must move to shape a map.

    Args:
        query (Tensor): ``to_q`` output ``[B, N, inner]``.
        key_weight (Tensor): ``to_k`` weight ``[inner, c]``.
        heads (int): Attention heads.

    Returns:
        Tensor: A scalar.
    """
    d_head = query.shape[-1] // heads
    f = query.float() @ key_weight.float() / (heads * math.sqrt(d_head))
    spread = f - f.mean(dim=1, keepdim=True)  # [B, N, c]
    return spread.pow(2).sum(-1).mean().sqrt()
