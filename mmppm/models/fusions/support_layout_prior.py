# Copyright (c) mmppm contributors. All rights reserved.
"""The support's layout as a prior on the query maps (beyond the paper)."""
import torch
from mmpose.registry import MODELS
from torch import Tensor, nn

from mmppm.utils.value_checks import positive_int, positive_number, require
from ..utils import argmax_2d, support_crop_keypoints
from ..utils.layout_prior import gaussian_log_prior, layout_means
from ..utils.map_fusion import log_distribution


@MODELS.register_module()
class SupportLayoutPrior(nn.Module):
    """Prefer, on each query map, the place the support's layout predicts.

    **Not part of the paper** (docs/method.md, "Beyond the paper"). Maps
    that cannot tell a keypoint from its look-alike (a left/right twin, the
    same blob elsewhere) peak on both; the support says which is which by
    where the keypoint sits among the others. For each query, a robust
    similarity transform (rotation, scale, shift; never a mirror) carries
    each support's keypoints onto the maps' first guesses (their argmax),
    and each map, as a distribution over the pixels, is multiplied by a
    Gaussian of sigma ``sigma * map side`` around its keypoint's carried
    place (:mod:`mmppm.models.utils.layout_prior`); ``rounds`` > 1 refits
    the transform from the previous round's keypoints. The transform is
    rigid up to scale, so a keypoint on a limb that moves on its own is
    only pulled towards its support place: ``sigma`` sets how hard.
    No UNet call: its cost is a few small least-squares fits per query.

    Args:
        sigma (float): The prior's sigma as a fraction of the map side
            (> 0). Defaults to 0.1.
        scale (float): The fit's residual scale (Cauchy weights) as a
            fraction of the map side (> 0). Defaults to 0.1.
        rounds (int): Fits, each from the previous keypoints. Defaults to 3.
            (The defaults: the toy benchmark's choice on val categories,
            docs/cpt.md.)
        what (str): Its config path, named in errors. Defaults to
            ``'model.fusion'``.
    """

    def __init__(self,
                 sigma: float = 0.1,
                 scale: float = 0.1,
                 rounds: int = 3,
                 what: str = 'model.fusion') -> None:
        super().__init__()
        require(sigma, positive_number, f'{what}.sigma',
                'a fraction of the map side > 0', '0.1')
        require(scale, positive_number, f'{what}.scale',
                'a fraction of the map side > 0', '0.1')
        require(rounds, positive_int, f'{what}.rounds', 'an integer >= 1', '3')
        self.sigma = float(sigma)
        self.scale = float(scale)
        self.rounds = int(rounds)
        self.what = what

    def check_backbone(self, backbone: nn.Module) -> None:
        """Nothing to check: the prior reads no backbone."""

    @torch.no_grad()
    def forward(self, backbone: nn.Module, latents: Tensor, supports: list,
                maps: Tensor, generator: torch.Generator) -> Tensor:
        """Maps ``[Q, K, H, W]`` times the layout prior, as distributions
        over the pixels (``backbone``, ``latents`` and ``generator``, the
        fusions' common arguments, are not read)."""
        support_xy, support_visible = (
            torch.as_tensor(a) for a in support_crop_keypoints(supports))
        side = float(max(maps.shape[-2:]))
        log_maps = fused = log_distribution(maps)  # float32
        for round_ in range(self.rounds):
            # the maps' own argmax first (a cosine map may be all < 0,
            # which log_distribution flattens), then the last round's
            guesses = argmax_2d(fused if round_ else maps)[0].double().cpu()
            places, has_place = layout_means(support_xy, support_visible,
                                             guesses, self.scale * side)
            log_prior = gaussian_log_prior(places, has_place,
                                           self.sigma * side,
                                           tuple(maps.shape[-2:]))
            fused = log_maps + log_prior.to(log_maps.device)
        out = torch.softmax(fused.flatten(-2), dim=-1).view(maps.shape)
        return out.to(maps.dtype)
