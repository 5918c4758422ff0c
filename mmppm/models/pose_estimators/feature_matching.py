# Copyright (c) mmppm contributors. All rights reserved.
"""Training-free correspondence on UNet features (DIFT-style baseline)."""
from typing import List, Optional, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.value_checks import positive_int, require
from ..builder import build_component
from ..fusions import build_fusion
from ..utils import argmax_2d
from ..utils.feature_similarity import (check_feature_layers, similarity_maps,
                                        support_references, unet_features)
from .base import BaseEpisodicEstimator
from .episodes import pack_query_predictions, split_episode


@MODELS.register_module()
class FeatureMatchingBaseline(BaseEpisodicEstimator):
    """Find each keypoint by UNet-feature similarity: no prompts, no fit.

    The support keypoint's feature (UNet block outputs at the backbone's
    timestep, bilinearly sampled at the keypoint) is compared by cosine
    similarity with every location of the query's features; the keypoint is
    the argmax of the upsampled similarity map (DIFT, Tang et al. 2023).
    Several ``feature_layers`` are unit-normalised and concatenated; with
    ``ensemble`` > 1 the features are averaged over that many noise draws.
    The UNet runs with a neutral context (a zero token, or the empty prompt
    under ``context_layout='empty_text'``). Same backbone, data and metric
    as PPM; the baseline PPM is asked to beat (projects/toy_sd/README.md).

    Args:
        backbone (dict): :class:`SDCrossAttnBackbone` config (its
            ``timestep`` and ``input_size`` are used).
        feature_layers (Sequence[str]): UNet submodules whose outputs are
            the features, e.g. ``['up_blocks.0']``.
        ensemble (int): Noise draws averaged. Defaults to 1.
        seed (int): Episode e uses seed + e. Defaults to 0.
        output_heatmaps (bool): Keep the similarity maps in
            ``pred_fields.heatmaps``. Defaults to False.
        fusion (dict | list[dict], optional): Beyond DIFT: a
            :mod:`~mmppm.models.fusions` module applied to the similarity
            maps before the argmax, e.g. ``SupportLayoutPrior`` (the same
            prior on both sides of a comparison). Defaults to None.
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor``.
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 backbone: dict,
                 feature_layers: Sequence[str] = ('up_blocks.0', ),
                 ensemble: int = 1,
                 seed: int = 0,
                 output_heatmaps: bool = False,
                 fusion=None,
                 data_preprocessor=None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        # what loads nothing first: argument errors come before the SD
        # weights load
        require(ensemble, positive_int, 'model.ensemble', 'an integer >= 1',
                '1')
        self.ensemble = int(ensemble)
        self.seed = int(seed)
        self.output_heatmaps = bool(output_heatmaps)
        self.fusion = None if fusion is None else build_fusion(fusion)
        self.backbone = build_component(backbone, torch.nn.Module,
                                        'model.backbone')
        check_feature_layers(self.backbone.unet, feature_layers,
                             'FeatureMatchingBaseline')
        self.feature_layers = list(feature_layers)
        if self.fusion is not None:
            self.fusion.check_backbone(self.backbone)

    @torch.no_grad()
    def predict_episode(self,
                        images: Tensor,
                        samples: list,
                        output_heatmaps: Optional[bool] = None) -> List:
        """Predict the queries of one episode (supports first); keep the
        similarity maps with ``output_heatmaps`` (None:
        ``self.output_heatmaps``)."""
        if output_heatmaps is None:
            output_heatmaps = self.output_heatmaps
        supports, queries = split_episode(samples)
        num_shots = len(supports)
        generator = torch.Generator().manual_seed(
            self.seed + int(samples[0].metainfo.get('episode_id', 0)))
        latents = self.backbone.encode(images)
        feats = unet_features(self.backbone, latents, self.feature_layers,
                              self.ensemble, generator)
        w, h = (int(v) for v in supports[0].metainfo['input_size'])
        maps = similarity_maps(feats[num_shots:],
                               support_references(feats, supports),
                               (h, w))  # [Q, K, H, W]
        if self.fusion is not None:
            maps = self.fusion(self.backbone, latents, supports, maps,
                               generator)
        xy, scores = argmax_2d(maps)
        return pack_query_predictions(queries,
                                      xy.cpu().numpy(),
                                      scores.float().cpu().numpy(),
                                      maps if output_heatmaps else None)
