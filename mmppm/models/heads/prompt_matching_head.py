# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM head: the prompt-matching loss and keypoint decoding."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.model import BaseModule
from mmpose.codecs.utils import refine_keypoints, refine_keypoints_dark
from mmpose.registry import MODELS
from torch import Tensor

from ..utils import argmax_2d

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

    def loss(self, maps: Tensor, targets: Tensor, noise_pred: Optional[Tensor],
             noise: Optional[Tensor],
             pair_weights: Tensor) -> Dict[str, Tensor]:
        """Prompt-matching loss over (prompt, image) pairs.

        Args:
            maps (Tensor): ``[N, H, W]`` maps of the pairs.
            targets (Tensor): ``[N, H, W]`` Gaussian targets.
            noise_pred (Tensor, optional): ``[N, 4, h, w]``; None skips the
                diffusion term.
            noise (Tensor, optional): ``[N, 4, h, w]``.
            pair_weights (Tensor): ``[N]`` from
                :func:`mmppm.models.utils.prompt_pair_weights` (computed over
                all pairs, so chunked sums equal one batch).

        Returns:
            dict: ``loss_map`` and ``loss_dm`` (weighted sums; their sum is
            the loss).
        """
        pair_weights = pair_weights.to(maps.device)
        loss_map = (maps.float() - targets.float()).pow(2).flatten(1).mean(1)
        losses = dict(loss_map=(loss_map * pair_weights).sum())
        if noise_pred is not None and self.loss_dm_weight > 0:
            loss_dm = (noise_pred.float() -
                       noise.float()).pow(2).flatten(1).mean(1)
            losses['loss_dm'] = self.loss_dm_weight * (loss_dm *
                                                       pair_weights).sum()
        return losses

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
