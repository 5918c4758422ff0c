# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM head: the prompt-matching loss and keypoint decoding."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.value_checks import non_negative_number, require
from ..builder import build_component
from ..decoders import MapDecoder
from ..losses import MapLoss


@MODELS.register_module()
class PromptMatchingHead(BaseModule):
    """Loss of paper Eq. 4 / Eq. 6 and the decoding of attention maps.

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
        decoder (dict): The maps' decoding, a registered
            :class:`~mmppm.models.decoders.MapDecoder`: ``dict(type=
            'ArgmaxDecoder')`` (the paper, default), ``'QuarterOffsetDecoder'``
            or ``'DarkDecoder'`` (sub-pixel refinements, mmpose's
            ``refine_keypoints`` / ``refine_keypoints_dark``).
        init_cfg (dict, optional): Unused (no weights).
        what (str): Its config path, named in errors. Defaults to
            ``'model.head'``.
    """

    def __init__(self,
                 loss: dict = dict(type='MSEMapLoss'),
                 loss_dm_weight: float = 1.0,
                 decoder: dict = dict(type='ArgmaxDecoder'),
                 init_cfg: Optional[dict] = None,
                 what: str = 'model.head') -> None:
        super().__init__(init_cfg=init_cfg)
        require(loss_dm_weight, non_negative_number, f'{what}.loss_dm_weight',
                'a finite number >= 0', '1.0')
        self.loss_module = build_component(loss, MapLoss, f'{what}.loss')
        self.loss_dm_weight = float(loss_dm_weight)
        self.decoder = build_component(decoder, MapDecoder, f'{what}.decoder')

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
        """Keypoints in map pixels and their scores, by the head's decoder.

        Args:
            maps (Tensor): ``[Q, K, H, W]``.

        Returns:
            tuple[np.ndarray, np.ndarray]: keypoints ``[Q, K, 2]`` and scores
            (the map maxima) ``[Q, K]``.
        """
        return self.decoder(maps)
