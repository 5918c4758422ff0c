# Copyright (c) mmppm contributors. All rights reserved.
"""Prompt maps times UNet-feature similarity (beyond the paper)."""
from typing import Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from mmppm.utils.value_checks import (positive_int, positive_number, require,
                                      unit_interval)
from ..utils.feature_similarity import (check_feature_layers, similarity_maps,
                                        support_references, unet_features)
from ..utils.map_fusion import fuse_maps


@MODELS.register_module()
class FeatureSimilarityFusion(nn.Module):
    """Combine PPM's query maps with training-free feature matching.

    **Not part of the paper** (docs/method.md, "Beyond the paper"). The
    prompts' cross-attention maps of the query (paper Eq. 3, after the
    fit of Eq. 4) are fused, before decoding, with the cosine-similarity
    maps of the support keypoints' UNet features (DIFT, as
    :class:`~mmppm.models.pose_estimators.FeatureMatchingBaseline`
    computes them) by a weighted product of the two distributions over the
    pixels (:func:`~mmppm.models.utils.map_fusion.fuse_maps`). The prompts
    say *which* part; the features say *where that part looks like the
    support's*. Cost: one neutral-context UNet pass per episode image and
    noise draw (``ensemble``), on top of the fit
    (``tools/analysis/mmppm_analysis/unet_calls.py``).

    Args:
        feature_layers (Sequence[str]): UNet submodules whose outputs are
            the features. Defaults to ``('up_blocks.0', )``.
        weight (float): The similarity's weight in [0, 1]: 0 keeps PPM's
            keypoints, 1 gives feature matching's. Defaults to 0.5.
        temperature (float): Softmax temperature of the cosine
            similarities (> 0). Defaults to 0.1.
        ensemble (int): Noise draws the features are averaged over.
            Defaults to 1.
        what (str): Its config path, named in errors. Defaults to
            ``'model.fusion'``.
    """

    def __init__(self,
                 feature_layers: Sequence[str] = ('up_blocks.0', ),
                 weight: float = 0.5,
                 temperature: float = 0.1,
                 ensemble: int = 1,
                 what: str = 'model.fusion') -> None:
        super().__init__()
        require(weight, unit_interval, f'{what}.weight', 'a number in [0, 1]',
                '0.5')
        require(temperature, positive_number, f'{what}.temperature',
                'a finite number > 0', '0.1')
        require(ensemble, positive_int, f'{what}.ensemble', 'an integer >= 1',
                '1')
        require(
            feature_layers,
            lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(
                isinstance(n, str) for n in v), f'{what}.feature_layers',
            'a non-empty list of UNet module names', "['up_blocks.0']")
        self.feature_layers = list(feature_layers)
        self.weight = float(weight)
        self.temperature = float(temperature)
        self.ensemble = int(ensemble)
        self.what = what

    def check_backbone(self, backbone: nn.Module) -> None:
        """Refuse feature layers the backbone's UNet does not have."""
        check_feature_layers(backbone.unet, self.feature_layers, self.what)

    @torch.no_grad()
    def similarity(self, backbone: nn.Module, latents: Tensor, supports: list,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        """Cosine maps ``[Q, K, H, W]`` of the support keypoints' features on
        the queries (feature matching's maps), ``map_size`` ``(H, W)``.

        Args:
            backbone (nn.Module): The estimator's
                :class:`SDCrossAttnBackbone`.
            latents (Tensor): ``[S + Q, 4, h, w]`` the episode's latents,
                supports first.
            supports (list[PoseDataSample]): The support samples (their
                keypoints in original image pixels).
            map_size (Sequence[int]): ``(H, W)`` of the prompt maps.
            generator (torch.Generator): The features' noise.
        """
        feats = unet_features(backbone, latents, self.feature_layers,
                              self.ensemble, generator)
        num_shots = len(supports)
        return similarity_maps(feats[num_shots:],
                               support_references(feats[:num_shots], supports),
                               map_size)

    def forward(self, backbone: nn.Module, latents: Tensor, supports: list,
                prompt_maps: Tensor, generator: torch.Generator) -> Tensor:
        """Fused maps ``[Q, K, H, W]`` of the prompts' query maps
        ``prompt_maps`` (arguments as :meth:`similarity`)."""
        similarity = self.similarity(backbone, latents, supports,
                                     prompt_maps.shape[-2:], generator)
        return fuse_maps(prompt_maps, similarity, self.weight,
                         self.temperature).to(prompt_maps.dtype)
