# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM head: the prompt-matching loss and keypoint decoding."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmengine.model import BaseModule
from mmpose.codecs.utils import refine_keypoints, refine_keypoints_dark
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..builder import build_component
from ..losses import MapLoss
from ..utils import argmax_2d

SUBPIXEL_MODES = (None, 'quarter', 'dark')


@MODELS.register_module()
class PromptMatchingHead(BaseModule):
    """Loss of paper Eq. 4 / Eq. 6 and argmax decoding of attention maps.

    The loss of one prompt is the mean, over the images in which its keypoint
    is visible, of ``loss(map, gaussian target) + loss_dm_weight *
    MSE(dm_pred, dm_target)`` (the map loss is paper Eq. 4's MSE by
    default; the diffusion target is the noise, or v for a v-prediction
    SD).

    The head owns its map loss, as mmpose heads own theirs: the prompt
    fit (PPM) and CPT training minimise the same ``head.loss``, and the
    fit diagnostics score the supports with it.

    Args:
        loss (dict): The map objective, a registered
            :class:`~mmppm.models.losses.MapLoss`: ``dict(type=
            'MSEMapLoss')`` (paper Eq. 4, default), ``'BalancedMSEMapLoss'``
            (foreground-weighted) or ``'NormalizedCEMapLoss'``
            (cross-entropy of maps normalised over pixels). See
            docs/method.md.
        loss_dm_weight (float): lambda_dm. Defaults to 1.0.
        subpixel (str, optional): Sub-pixel refinement of the argmax:
            None (default), ``'quarter'`` (mmpose ``refine_keypoints``) or
            ``'dark'`` (mmpose ``refine_keypoints_dark``).
        dark_kernel (int): Blur kernel of DARK refinement. Defaults to 11.
        init_cfg (dict, optional): Unused (no weights).
    """

    def __init__(self,
                 loss: dict = dict(type='MSEMapLoss'),
                 loss_dm_weight: float = 1.0,
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
        self.loss_module = build_component(loss, MapLoss, 'model.head.loss')
        self.loss_dm_weight = float(loss_dm_weight)
        self.subpixel = subpixel
        self.dark_kernel = dark_kernel

    def loss(self,
             maps: Tensor,
             targets: Tensor,
             dm_pred: Optional[Tensor],
             dm_target: Optional[Tensor],
             pair_weights: Tensor,
             dm_weights: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Prompt-matching loss over (prompt, image) pairs (paper Eq. 4).

        Args:
            maps (Tensor): ``[N, H, W]`` maps of the pairs.
            targets (Tensor): ``[N, H, W]`` Gaussian targets.
            dm_pred (Tensor, optional): ``[M, 4, h, w]`` the UNet's
                prediction; None skips the diffusion term.
            dm_target (Tensor, optional): ``[M, 4, h, w]`` its regression
                target (paper Eq. 1): the noise for an epsilon model, v for
                a v-prediction one (:meth:`SDCrossAttnBackbone.add_noise`).
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
        loss_map = self.loss_module(maps, targets)  # [N]
        losses = dict(loss_map=(loss_map * pair_weights).sum())
        if dm_pred is not None and self.loss_dm_weight > 0:
            weights = pair_weights if dm_weights is None else dm_weights.to(
                maps.device)
            loss_dm = (dm_pred.float() -
                       dm_target.float()).pow(2).flatten(1).mean(1)
            losses['loss_dm'] = self.loss_dm_weight * (loss_dm * weights).sum()
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
