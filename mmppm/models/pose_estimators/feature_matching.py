# Copyright (c) mmppm contributors. All rights reserved.
"""Training-free correspondence on UNet features (DIFT-style baseline)."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..builder import build_component
from ..utils import argmax_2d, image_to_crop
from .base import BaseEpisodicEstimator
from .episodes import pack_query_predictions, split_episode


def sample_features(features: Tensor, xy: np.ndarray,
                    crop_size: Tuple[int, int]) -> Tensor:
    """Bilinear feature vectors at crop-pixel points.

    Args:
        features (Tensor): ``[C, h, w]`` covering the crop.
        xy (np.ndarray): ``[K, 2]`` points in crop pixels.
        crop_size (tuple[int, int]): ``(w, h)`` of the crop.

    Returns:
        Tensor: ``[K, C]``.
    """
    w, h = crop_size
    grid = torch.as_tensor(
        xy, dtype=features.dtype, device=features.device).clone()
    # pixel centres -> [-1, 1] (align_corners=False convention)
    grid[:, 0] = (grid[:, 0] + 0.5) / w * 2 - 1
    grid[:, 1] = (grid[:, 1] + 0.5) / h * 2 - 1
    out = F.grid_sample(
        features[None],
        grid[None, :, None],
        mode='bilinear',
        align_corners=False)  # [1, C, K, 1]
    return out[0, :, :, 0].t()


def cosine_maps(query_features: Tensor, references: Tensor) -> Tensor:
    """Cosine similarity of each reference vector with every location.

    Args:
        query_features (Tensor): ``[Q, C, h, w]``.
        references (Tensor): ``[K, C]``.

    Returns:
        Tensor: ``[Q, K, h, w]`` in [-1, 1].
    """
    q = F.normalize(query_features.float(), dim=1)
    r = F.normalize(references.float(), dim=1)
    return torch.einsum('qchw,kc->qkhw', q, r)


def mean_reference(vectors: Tensor, visible: Tensor) -> Tensor:
    """Mean over the shots of the unit support vectors where the keypoint
    is visible: ``[S, K, C] x [S, K] -> [K, C]`` (zero where none)."""
    v = F.normalize(vectors.float(), dim=-1) * visible[..., None].float()
    return v.sum(0) / visible.float().sum(0).clamp(min=1)[..., None]


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
                 data_preprocessor=None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        self.backbone = build_component(backbone, torch.nn.Module,
                                        'model.backbone')
        modules = dict(self.backbone.unet.named_modules())
        unknown = [n for n in feature_layers if n not in modules]
        if unknown or not feature_layers:
            valid = ', '.join(
                n for n in modules
                if n.count('.') <= 1 and n.endswith(tuple('0123456789'))
                or n == 'mid_block')
            raise UserError(
                f'FeatureMatchingBaseline: feature_layers {list(unknown)} '
                f'are not modules of the UNet (choose e.g. from: {valid})')
        if int(ensemble) < 1:
            raise UserError(f'FeatureMatchingBaseline: ensemble must be >= '
                            f'1, got {ensemble!r}')
        self.feature_layers = list(feature_layers)
        self.ensemble = int(ensemble)
        self.seed = int(seed)
        self.output_heatmaps = bool(output_heatmaps)

    @torch.no_grad()
    def features(self, latents: Tensor, generator: torch.Generator) -> Tensor:
        """Concatenated unit-normalised block outputs ``[B, C, h, w]`` at the
        finest of their resolutions, averaged over the noise draws."""
        captured: Dict[str, Tensor] = {}
        hooks = [
            self.backbone.unet.get_submodule(name).register_forward_hook(
                lambda m, i, o, name=name: captured.__setitem__(
                    name, o[0] if isinstance(o, tuple) else o))
            for name in self.feature_layers
        ]
        c = self.backbone.cross_attention_dim
        total = None
        try:
            for _ in range(self.ensemble):
                noisy, _ = self.backbone.add_noise(latents, generator)
                self.backbone(noisy, latents.new_zeros(len(latents), 1, c))
                feats = [captured[n].float() for n in self.feature_layers]
                size = max((f.shape[-2:] for f in feats), key=lambda s: s[0])
                feats = torch.cat([
                    F.normalize(
                        F.interpolate(
                            f,
                            size=tuple(size),
                            mode='bilinear',
                            align_corners=False),
                        dim=1) for f in feats
                ],
                                  dim=1)
                total = feats if total is None else total + feats
        finally:
            for hook in hooks:
                hook.remove()
        return total / self.ensemble

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
        feats = self.features(self.backbone.encode(images), generator)
        w, h = (int(v) for v in supports[0].metainfo['input_size'])
        vectors, visible = [], []
        for s, sample in enumerate(supports):
            m = sample.metainfo
            xy = image_to_crop(
                np.asarray(sample.gt_instances.keypoints, np.float32)[0],
                m['input_center'], m['input_scale'], m['input_size'])
            vectors.append(sample_features(feats[s], xy, (w, h)))
            visible.append(
                torch.as_tensor(
                    np.asarray(sample.gt_instances.keypoints_visible)[0] > 0))
        reference = mean_reference(
            torch.stack(vectors),
            torch.stack(visible).to(feats.device))
        maps = cosine_maps(feats[num_shots:], reference)  # [Q, K, h, w]
        maps = F.interpolate(
            maps, size=(h, w), mode='bilinear', align_corners=False)
        xy, scores = argmax_2d(maps)
        return pack_query_predictions(queries,
                                      xy.cpu().numpy(),
                                      scores.float().cpu().numpy(),
                                      maps if output_heatmaps else None)
