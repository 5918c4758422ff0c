# Copyright (c) mmppm contributors. All rights reserved.
"""The map objectives of paper Eq. 4 (and options) as registered losses.

Each class is a thin ``nn.Module`` around one pure per-pair function of
:mod:`mmppm.models.utils.map_losses` (where the arithmetic and its
rationale live); ``PromptMatchingHead`` builds one from its ``loss``
config, as mmpose heads build theirs (``loss=dict(type='MSEMapLoss')``).
A new objective is a new registered :class:`MapLoss` subclass.
docs/method.md compares them.
"""
from typing import Callable

import torch.nn as nn
from mmpose.registry import MODELS
from torch import Tensor

from ..utils.map_losses import (balanced_mse_map_loss, mse_map_loss,
                                normalized_ce_map_loss)


class MapLoss(nn.Module):
    """Per-pair loss ``[N]`` of maps and Gaussian targets ``[N, H, W]``.

    Subclasses set :attr:`per_pair`, the pure function computing it (the
    head weights and sums the pairs, so chunked sums equal one batch).
    """

    #: ``per_pair(maps [N, H, W], targets [N, H, W]) -> [N]``.
    per_pair: Callable[[Tensor, Tensor], Tensor]

    def __init__(self) -> None:  # no arguments (the config lists none)
        super().__init__()

    def forward(self, maps: Tensor, targets: Tensor) -> Tensor:
        """Loss of each (prompt, image) pair, ``[N]``."""
        return type(self).per_pair(maps, targets)


@MODELS.register_module()
class MSEMapLoss(MapLoss):
    """Paper Eq. 4: the mean squared error over pixels
    (:func:`~mmppm.models.utils.map_losses.mse_map_loss`)."""
    per_pair = staticmethod(mse_map_loss)


@MODELS.register_module()
class BalancedMSEMapLoss(MapLoss):
    """Foreground-weighted MSE: target mass and background count equally
    (:func:`~mmppm.models.utils.map_losses.balanced_mse_map_loss`)."""
    per_pair = staticmethod(balanced_mse_map_loss)


@MODELS.register_module()
class NormalizedCEMapLoss(MapLoss):
    """Cross-entropy of target and map, both normalised over pixels
    (:func:`~mmppm.models.utils.map_losses.normalized_ce_map_loss`)."""
    per_pair = staticmethod(normalized_ce_map_loss)
