# Copyright (c) mmppm contributors. All rights reserved.
"""Pure functions for prompt losses and keypoint decoding."""
from typing import Sequence, Tuple

import numpy as np
import torch
from torch import Tensor


def prompt_pair_weights(prompt_ids: Tensor,
                        num_prompts: int,
                        reduction: str = 'sum') -> Tensor:
    """Weight of each (prompt, image) pair in the prompt-matching loss.

    A prompt's loss is the mean over the images in which its keypoint is
    visible (with k shots: the mean over its visible shots, paper Eq. 4);
    invisible pairs are simply absent. The weights are computed once over
    *all* pairs, so a loss summed over chunks of pairs is the same as over one
    batch.

    Args:
        prompt_ids (Tensor): ``[N]`` prompt index of each pair (long).
        num_prompts (int): Number of prompts P.
        reduction (str): ``'sum'`` over prompts (test-time optimisation: each
            prompt gets exactly the gradient of its own loss) or ``'mean'``
            over the prompts that have pairs (training).

    Returns:
        Tensor: ``[N]`` weights, ``1 / count(prompt)`` (divided further by
        the number of prompts present for ``'mean'``).
    """
    counts = torch.bincount(prompt_ids, minlength=num_prompts)
    weights = 1.0 / counts[prompt_ids].to(torch.float32)
    if reduction == 'mean':
        weights = weights / (counts > 0).sum().clamp(min=1)
    elif reduction != 'sum':
        raise ValueError(f'Unknown reduction {reduction!r}')
    return weights


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
    xy = torch.stack(
        [idx % w, torch.div(idx, w, rounding_mode='floor')], dim=-1)
    return xy.to(torch.float32), vals


def crop_to_image(keypoints: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  input_size) -> np.ndarray:
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


def image_to_crop(keypoints: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  input_size) -> np.ndarray:
    """Map keypoints from original image pixels to crop pixels.

    The inverse of :func:`crop_to_image`.

    Args:
        keypoints (np.ndarray): ``[..., 2]`` in image pixels.
        center (np.ndarray): ``input_center`` ``[2]``.
        scale (np.ndarray): ``input_scale`` ``[2]``.
        input_size (Sequence[int]): Crop ``(w, h)``.

    Returns:
        np.ndarray: ``[..., 2]`` in crop pixels.
    """
    input_size = np.asarray(input_size, dtype=np.float32)
    center = np.asarray(center, dtype=np.float32).reshape(-1)[:2]
    scale = np.asarray(scale, dtype=np.float32).reshape(-1)[:2]
    return (keypoints - center + 0.5 * scale) / scale * input_size


def support_crop_keypoints(
        supports: Sequence) -> Tuple[np.ndarray, np.ndarray]:
    """The supports' ground-truth keypoints in their crop pixels ``[S, K,
    2]`` (float32) and their visibility ``[S, K]`` (bool)."""
    xy, visible = [], []
    for sample in supports:
        m = sample.metainfo
        xy.append(
            image_to_crop(
                np.asarray(sample.gt_instances.keypoints, np.float32)[0],
                m['input_center'], m['input_scale'], m['input_size']))
        visible.append(
            np.asarray(sample.gt_instances.keypoints_visible)[0] > 0)
    return np.stack(xy).astype(np.float32), np.stack(visible)
