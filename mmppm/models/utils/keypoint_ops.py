# Copyright (c) mmppm contributors. All rights reserved.
"""Pure functions for prompt losses and keypoint decoding."""
from typing import Tuple

import numpy as np
import torch
from torch import Tensor


def per_prompt_mean(pair_values: Tensor, prompt_ids: Tensor,
                    num_prompts: int) -> Tuple[Tensor, Tensor]:
    """Mean of per-(prompt, image) values over each prompt's pairs.

    With k shots, a prompt's loss is the mean over the shots in which its
    keypoint is visible (SPEC Eq. 4); invisible pairs are simply absent.

    Args:
        pair_values (Tensor): ``[N]`` values, one per (prompt, image) pair.
        prompt_ids (Tensor): ``[N]`` prompt index of each pair (long).
        num_prompts (int): Number of prompts P.

    Returns:
        tuple[Tensor, Tensor]: Per-prompt means ``[P]`` (0 for a prompt with
        no pair) and the pair count of each prompt ``[P]``.
    """
    counts = torch.bincount(prompt_ids, minlength=num_prompts)
    sums = torch.zeros(
        num_prompts, dtype=pair_values.dtype,
        device=pair_values.device).index_add(0, prompt_ids, pair_values)
    return sums / counts.clamp(min=1).to(sums.dtype), counts


def pair_losses(maps: Tensor, targets: Tensor, noise_pred: Tensor,
                noise: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-pair map MSE and diffusion MSE (SPEC Eq. 4 and Eq. 1).

    Args:
        maps (Tensor): Multi-layer maps ``[N, H, W]``.
        targets (Tensor): Gaussian heatmaps ``[N, H, W]``.
        noise_pred (Tensor): UNet noise predictions ``[N, 4, h, w]``.
        noise (Tensor): The noise that was added ``[N, 4, h, w]``.

    Returns:
        tuple[Tensor, Tensor]: ``loss_map`` and ``loss_dm``, each ``[N]``.
    """
    loss_map = (maps.float() - targets.float()).pow(2).flatten(1).mean(1)
    loss_dm = (noise_pred.float() - noise.float()).pow(2).flatten(1).mean(1)
    return loss_map, loss_dm


def argmax_2d(maps: Tensor) -> Tuple[Tensor, Tensor]:
    """Location and value of the maximum of each map.

    Args:
        maps (Tensor): ``[..., H, W]``.

    Returns:
        tuple[Tensor, Tensor]: ``(x, y)`` pixel coordinates ``[..., 2]``
        (float) and maximum values ``[...]``.
    """
    h, w = maps.shape[-2:]
    vals, idx = maps.flatten(-2).max(dim=-1)
    xy = torch.stack([idx % w, torch.div(idx, w, rounding_mode='floor')],
                     dim=-1)
    return xy.to(torch.float32), vals


def crop_to_image(keypoints: np.ndarray, center: np.ndarray,
                  scale: np.ndarray, input_size) -> np.ndarray:
    """Map keypoints from crop pixels back to original image pixels.

    Inverse of mmpose's ``TopdownAffine`` without rotation (as mmpose's
    ``TopdownPoseEstimator.add_pred_to_datasample`` does).

    Args:
        keypoints (np.ndarray): ``[..., 2]`` in crop pixels.
        center (np.ndarray): Bbox centre ``[2]`` (``input_center``).
        scale (np.ndarray): Bbox scale ``[2]`` (``input_scale``, w and h).
        input_size (Sequence[int]): Crop ``(w, h)``.

    Returns:
        np.ndarray: ``[..., 2]`` in original image pixels.
    """
    input_size = np.asarray(input_size, dtype=np.float32)
    center = np.asarray(center, dtype=np.float32).reshape(-1)[:2]
    scale = np.asarray(scale, dtype=np.float32).reshape(-1)[:2]
    return keypoints / input_size * scale + center - 0.5 * scale
