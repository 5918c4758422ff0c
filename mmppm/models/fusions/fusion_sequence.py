# Copyright (c) mmppm contributors. All rights reserved.
"""Several query-map fusions applied in order (``model.fusion=[...]``)."""
from typing import Sequence, Union

import torch
from torch import Tensor, nn

from ..builder import build_component


class FusionSequence(nn.Module):
    """The fusions of a list config, each fed the previous one's maps.

    Args:
        fusions (Sequence[nn.Module]): Built fusions, in order.
    """

    def __init__(self, fusions: Sequence[nn.Module]) -> None:
        super().__init__()
        self.fusions = nn.ModuleList(fusions)

    def check_backbone(self, backbone: nn.Module) -> None:
        """Every fusion's check of the backbone."""
        for fusion in self.fusions:
            fusion.check_backbone(backbone)

    def forward(self, backbone: nn.Module, latents: Tensor, supports: list,
                maps: Tensor, generator: torch.Generator) -> Tensor:
        """The maps through every fusion in order (the fusions' common
        arguments, e.g. :class:`FeatureSimilarityFusion`'s)."""
        for fusion in self.fusions:
            maps = fusion(backbone, latents, supports, maps, generator)
        return maps


def build_fusion(cfg: Union[dict, Sequence[dict]],
                 what: str = 'model.fusion') -> nn.Module:
    """One fusion from a ``dict(type=...)``, or a :class:`FusionSequence`
    from a list of them (``what[i]`` named in errors)."""
    if isinstance(cfg, (list, tuple)):
        return FusionSequence([
            build_component(item, nn.Module, f'{what}[{i}]')
            for i, item in enumerate(cfg)
        ])
    return build_component(cfg, nn.Module, what)
