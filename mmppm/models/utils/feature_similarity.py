# Copyright (c) mmppm contributors. All rights reserved.
"""UNet-feature similarity (DIFT, Tang et al. 2023): the features of a
neutral-context UNet pass, sampled at support keypoints and compared with
every query location. Shared by :class:`FeatureMatchingBaseline` and
:class:`FeatureSimilarityFusion`."""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmppm.utils.errors import UserError
from .keypoint_ops import support_crop_keypoints


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


@torch.no_grad()
def unet_features(backbone, latents: Tensor, layers: Sequence[str],
                  ensemble: int, generator: torch.Generator) -> Tensor:
    """Concatenated unit-normalised outputs of UNet submodules ``layers``
    ``[B, C, h, w]`` (at the finest of their resolutions) of a pass with a
    neutral context (one zero token) at the backbone's timestep, averaged
    over ``ensemble`` noise draws of ``generator``."""
    captured: Dict[str, Tensor] = {}
    hooks = [
        backbone.unet.get_submodule(name).register_forward_hook(
            lambda m, i, o, name=name: captured.__setitem__(
                name, o[0] if isinstance(o, tuple) else o)) for name in layers
    ]
    c = backbone.cross_attention_dim
    total = None
    try:
        for _ in range(ensemble):
            noisy, _ = backbone.add_noise(latents, generator)
            backbone(noisy, latents.new_zeros(len(latents), 1, c))
            feats = [captured[n].float() for n in layers]
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
    return total / ensemble


def support_references(features: Tensor, supports: Sequence) -> Tensor:
    """Each keypoint's reference vector ``[K, C]``: the mean over the
    supports where it is visible of the features ``[S, C, h, w]`` sampled at
    the support keypoints (their crop pixels)."""
    xy, visible = support_crop_keypoints(supports)
    w, h = (int(v) for v in supports[0].metainfo['input_size'])
    vectors = [
        sample_features(features[s], xy[s], (w, h))
        for s in range(len(supports))
    ]
    return mean_reference(
        torch.stack(vectors),
        torch.as_tensor(visible).to(features.device))


def similarity_maps(query_features: Tensor, references: Tensor,
                    map_size: Sequence[int]) -> Tensor:
    """Cosine maps ``[Q, K, H, W]`` of the references on the query features,
    upsampled (bilinear) to ``map_size`` ``(H, W)``."""
    maps = cosine_maps(query_features, references)
    return F.interpolate(
        maps, size=tuple(map_size), mode='bilinear', align_corners=False)


def check_feature_layers(unet, layers: Sequence[str], what: str) -> None:
    """Refuse ``layers`` that are not submodules of the UNet, in one line
    naming the valid block names."""
    modules = dict(unet.named_modules())
    unknown = [n for n in layers if n not in modules]
    if unknown or not layers:
        valid = ', '.join(
            n for n in modules
            if n.count('.') <= 1 and n.endswith(tuple('0123456789'))
            or n == 'mid_block')
        raise UserError(f'{what}: feature_layers {list(unknown)} are not '
                        f'modules of the UNet (choose e.g. from: {valid})')
