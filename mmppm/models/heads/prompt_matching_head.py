# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM head: the prompt-matching loss and keypoint decoding."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.model import BaseModule
from mmpose.codecs.utils import refine_keypoints, refine_keypoints_dark
from mmpose.registry import MODELS
from torch import Tensor

from ..utils import argmax_2d, pair_losses, per_prompt_mean

SUBPIXEL_MODES = (None, 'quarter', 'dark')


@MODELS.register_module()
class PromptMatchingHead(BaseModule):
    """Loss of SPEC Eq. 4 / Eq. 6 and argmax decoding of attention maps.

    The loss of one prompt is the mean, over the images in which its keypoint
    is visible, of ``MSE(map, gaussian target) + loss_dm_weight *
    MSE(noise_pred, noise)``.

    Args:
        loss_dm_weight (float): lambda_dm. Defaults to 1.0.
        subpixel (str, optional): Sub-pixel refinement of the argmax:
            None (default), ``'quarter'`` (mmpose ``refine_keypoints``) or
            ``'dark'`` (mmpose ``refine_keypoints_dark``).
        dark_kernel (int): Blur kernel of DARK refinement. Defaults to 11.
        init_cfg (dict, optional): Unused (no weights).
    """

    def __init__(self,
                 loss_dm_weight: float = 1.0,
                 subpixel: Optional[str] = None,
                 dark_kernel: int = 11,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if subpixel not in SUBPIXEL_MODES:
            raise ValueError(f'subpixel={subpixel!r} is not one of '
                             f'{SUBPIXEL_MODES}')
        if loss_dm_weight < 0:
            raise ValueError(f'loss_dm_weight must be >= 0, got '
                             f'{loss_dm_weight}')
        self.loss_dm_weight = float(loss_dm_weight)
        self.subpixel = subpixel
        self.dark_kernel = dark_kernel

    def loss(self,
             maps: Tensor,
             targets: Tensor,
             noise_pred: Tensor,
             noise: Tensor,
             prompt_ids: Tensor,
             num_prompts: int,
             reduction: str = 'sum') -> Dict[str, Tensor]:
        """Prompt-matching loss over (prompt, image) pairs.

        Args:
            maps (Tensor): ``[N, H, W]`` maps of the pairs.
            targets (Tensor): ``[N, H, W]`` Gaussian targets.
            noise_pred (Tensor): ``[N, 4, h, w]``.
            noise (Tensor): ``[N, 4, h, w]``.
            prompt_ids (Tensor): ``[N]`` prompt of each pair.
            num_prompts (int): Number of prompts.
            reduction (str): ``'sum'`` over prompts (test-time optimisation:
                each prompt gets exactly the gradient of its own loss, as if
                optimised alone) or ``'mean'`` over prompts with pairs
                (training). Defaults to ``'sum'``.

        Returns:
            dict: ``loss_map``, ``loss_dm`` (scalars, already weighted and
            reduced; their sum is the loss).
        """
        loss_map, loss_dm = pair_losses(maps, targets, noise_pred, noise)
        per_map, counts = per_prompt_mean(loss_map, prompt_ids, num_prompts)
        per_dm, _ = per_prompt_mean(loss_dm, prompt_ids, num_prompts)
        if reduction == 'sum':
            div = 1.
        elif reduction == 'mean':
            div = (counts > 0).sum().clamp(min=1)
        else:
            raise ValueError(f'Unknown reduction {reduction!r}')
        return dict(
            loss_map=per_map.sum() / div,
            loss_dm=self.loss_dm_weight * per_dm.sum() / div)

    def decode(self, maps: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        """Keypoints at the maps' maxima, in map pixels.

        Args:
            maps (Tensor): ``[Q, K, H, W]``.

        Returns:
            tuple[np.ndarray, np.ndarray]: keypoints ``[Q, K, 2]`` and scores
            (the map maxima) ``[Q, K]``.
        """
        xy, vals = argmax_2d(maps)
        keypoints = xy.cpu().numpy().astype(np.float32)
        scores = vals.float().cpu().numpy()
        if self.subpixel is not None:
            heatmaps = maps.float().cpu().numpy()
            for q in range(keypoints.shape[0]):
                if self.subpixel == 'quarter':
                    keypoints[q:q + 1] = refine_keypoints(
                        keypoints[q:q + 1], heatmaps[q])
                else:
                    keypoints[q:q + 1] = refine_keypoints_dark(
                        keypoints[q:q + 1], heatmaps[q].copy(),
                        self.dark_kernel)
        return keypoints, scores
