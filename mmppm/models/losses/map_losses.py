# Copyright (c) mmppm contributors. All rights reserved.
"""The map objectives of paper Eq. 4 (and options) as registered losses.

Each takes maps and Gaussian targets ``[N, H, W]`` and returns one loss per
(prompt, image) pair ``[N]`` (the head weights and sums the pairs, so
chunked sums equal one batch); as mmpose's losses, each does its work in
``forward``. ``PromptMatchingHead`` builds one from its ``loss`` config
(``loss=dict(type='MSEMapLoss')``). A new objective is a new registered
:class:`MapLoss` subclass (docs/extending.md); docs/method.md compares
them.
"""
import torch.nn as nn
from mmpose.registry import MODELS
from torch import Tensor

_EPS = 1e-8


class MapLoss(nn.Module):
    """Per-pair loss ``[N]`` of maps and Gaussian targets ``[N, H, W]``;
    subclasses implement :meth:`forward`."""

    def __init__(self) -> None:  # no arguments (the config lists none)
        super().__init__()

    def forward(self, maps: Tensor, targets: Tensor) -> Tensor:
        """Loss of each (prompt, image) pair, ``[N]``."""
        raise NotImplementedError


@MODELS.register_module()
class MSEMapLoss(MapLoss):
    """Paper Eq. 4: the mean squared error over pixels."""

    def forward(self, maps: Tensor, targets: Tensor) -> Tensor:
        return (maps.float() - targets.float()).pow(2).flatten(1).mean(1)


@MODELS.register_module()
class BalancedMSEMapLoss(MapLoss):
    """Foreground-weighted MSE: target mass and background count equally.

    Pixel weights ``w = t / sum(t) + (1 - t) / sum(1 - t)``, halved, so a
    small Gaussian's pixels weigh as much as the rest of the map together
    (with the plain mean an all-zero map already scores close to a perfect
    one and low peaks in the wrong place are accepted).
    """

    def forward(self, maps: Tensor, targets: Tensor) -> Tensor:
        t = targets.float().flatten(1)
        err = (maps.float().flatten(1) - t).pow(2)
        fg = t / t.sum(1, keepdim=True).clamp(min=_EPS)
        bg = (1 - t) / (1 - t).sum(1, keepdim=True).clamp(min=_EPS)
        return (0.5 * (fg + bg) * err).sum(1)


@MODELS.register_module()
class NormalizedCEMapLoss(MapLoss):
    """Cross-entropy between the target and the map, both normalised to
    distributions over pixels (the softmax cross-entropy of StableKeypoints
    and LDM-correspondence, applied to the sigmoid map: for low map values
    ``log sigmoid(a) ~ a``, so it is a softmax over the logits and does not
    saturate)."""

    def forward(self, maps: Tensor, targets: Tensor) -> Tensor:
        m = maps.float().flatten(1).clamp(min=_EPS)
        t = targets.float().flatten(1)
        t = t / t.sum(1, keepdim=True).clamp(min=_EPS)
        log_p = m.log() - m.sum(1, keepdim=True).log()
        return -(t * log_p).sum(1)
