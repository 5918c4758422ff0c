# Copyright (c) mmppm contributors. All rights reserved.
"""Product of experts of two kinds of keypoint maps (pure functions)."""
import torch
from torch import Tensor


def log_distribution(maps: Tensor, eps: float = 1e-8) -> Tensor:
    """``log`` of non-negative maps ``[..., H, W]`` normalised to sum 1 over
    their pixels (negative values count as 0; ``eps`` keeps an all-zero map
    uniform and its log finite)."""
    flat = maps.float().clamp(min=0).flatten(-2) + eps
    flat = flat / flat.sum(-1, keepdim=True)
    return flat.log().view(maps.shape)


def fuse_maps(prompt_maps: Tensor, similarity: Tensor, weight: float,
              temperature: float) -> Tensor:
    """Fuse prompt attention maps with feature-similarity maps.

    A weighted product of two distributions over the map's pixels (a
    geometric pooling, renormalised): the prompt maps normalised to sum 1,
    and ``softmax(similarity / temperature)``::

        log p = (1 - weight) * log p_prompt + weight * log p_similarity + c

    ``weight = 0`` keeps the prompt maps' argmax (PPM), ``weight = 1`` the
    similarity's (feature matching).

    Args:
        prompt_maps (Tensor): ``[Q, K, H, W]`` cross-attention maps (>= 0).
        similarity (Tensor): ``[Q, K, H, W]`` cosine similarities.
        weight (float): The similarity's weight, in [0, 1].
        temperature (float): Softmax temperature of the similarity (> 0).

    Returns:
        Tensor: ``[Q, K, H, W]`` distributions over each map's pixels.
    """
    log_sim = torch.log_softmax(
        similarity.float().flatten(-2) / temperature, dim=-1)
    fused = ((1 - weight) * log_distribution(prompt_maps).flatten(-2) +
             weight * log_sim)
    return torch.softmax(fused, dim=-1).view(prompt_maps.shape)
