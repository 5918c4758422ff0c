# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM head: the prompt-matching loss and keypoint decoding."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmengine.model import BaseModule
from mmpose.codecs.utils import refine_keypoints, refine_keypoints_dark
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..utils import MAP_LOSSES, argmax_2d, map_loss

SUBPIXEL_MODES = (None, 'quarter', 'dark')


@MODELS.register_module()
class PromptMatchingHead(BaseModule):
    """Loss of paper Eq. 4 / Eq. 6 and argmax decoding of attention maps.

    The loss of one prompt is the mean, over the images in which its keypoint
    is visible, of ``MSE(map, gaussian target) + loss_dm_weight *
    MSE(noise_pred, noise)``.

    Args:
        loss_dm_weight (float): lambda_dm. Defaults to 1.0.
        map_loss (str): Map objective, one of
            :data:`mmppm.models.utils.MAP_LOSSES`: ``'mse'`` (paper Eq. 4,
            default), ``'balanced_mse'`` (foreground-weighted) or
            ``'normalized_ce'`` (cross-entropy of maps normalised over
            pixels). See docs/method.md.
        subpixel (str, optional): Sub-pixel refinement of the argmax:
            None (default), ``'quarter'`` (mmpose ``refine_keypoints``) or
            ``'dark'`` (mmpose ``refine_keypoints_dark``).
        dark_kernel (int): Blur kernel of DARK refinement. Defaults to 11.
        init_cfg (dict, optional): Unused (no weights).
    """

    def __init__(self,
                 loss_dm_weight: float = 1.0,
                 map_loss: str = 'mse',
                 subpixel: Optional[str] = None,
                 dark_kernel: int = 11,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if subpixel not in SUBPIXEL_MODES:
            raise UserError(f'subpixel={subpixel!r} is not one of '
                             f'{SUBPIXEL_MODES}')
        if loss_dm_weight < 0:
            raise UserError(f'loss_dm_weight must be >= 0, got '
                             f'{loss_dm_weight}')
        if map_loss not in MAP_LOSSES:
            raise UserError(f'map_loss={map_loss!r} is not one of '
                             f'{MAP_LOSSES}')
        self.map_loss = map_loss
        self.loss_dm_weight = float(loss_dm_weight)
        self.subpixel = subpixel
        self.dark_kernel = dark_kernel

    def loss(self,
             maps: Tensor,
             targets: Tensor,
             noise_pred: Optional[Tensor],
             noise: Optional[Tensor],
             pair_weights: Tensor,
             dm_weights: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Prompt-matching loss over (prompt, image) pairs (paper Eq. 4).

        Args:
            maps (Tensor): ``[N, H, W]`` maps of the pairs.
            targets (Tensor): ``[N, H, W]`` Gaussian targets.
            noise_pred (Tensor, optional): ``[M, 4, h, w]``; None skips the
                diffusion term.
            noise (Tensor, optional): ``[M, 4, h, w]``.
            pair_weights (Tensor): ``[N]`` from
                :func:`mmppm.models.utils.prompt_pair_weights` (computed over
                all pairs, so chunked sums equal one batch).
            dm_weights (Tensor, optional): ``[M]`` weights of the diffusion
                terms. Defaults to ``pair_weights`` (one UNet pass per pair,
                ``M = N``).

        Returns:
            dict: ``loss_map`` and ``loss_dm`` (weighted sums; their sum is
            the loss).
        """
        pair_weights = pair_weights.to(maps.device)
        loss_map = map_loss(maps, targets, self.map_loss)  # [N]
        losses = dict(loss_map=(loss_map * pair_weights).sum())
        if noise_pred is not None and self.loss_dm_weight > 0:
            weights = pair_weights if dm_weights is None else dm_weights.to(
                maps.device)
            loss_dm = (noise_pred.float() -
                       noise.float()).pow(2).flatten(1).mean(1)
            losses['loss_dm'] = self.loss_dm_weight * (loss_dm *
                                                       weights).sum()
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
