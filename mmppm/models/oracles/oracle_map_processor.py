# Copyright (c) mmppm contributors. All rights reserved.
"""The map processor of :class:`OracleSDBackbone`: the production
processor plus the oracle's codes in the recorded queries."""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor

from ..backbones.attn_processors import AttentionStore, CrossAttnMapProcessor
from ..utils.oracle_codes import code_queries


class OracleScene:
    """The codes ``[B, c, h0, w0]`` of the images in the current forward
    (set by the backbone before each UNet call) and their logit gain."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = float(gain)
        self.codes: Optional[Tensor] = None


def scene_queries(attn, scene: Tensor, hw: Tuple[int, int],
                  gain: float) -> Tensor:
    """Oracle queries ``[B, h*w, inner]`` of one layer from the scene codes
    ``[B, c, h0, w0]`` (area-averaged to the layer's ``(h, w)``)."""
    if tuple(scene.shape[-2:]) != tuple(hw):
        scene = F.adaptive_avg_pool2d(scene, hw)
    codes = scene.flatten(2).transpose(1, 2)  # [B, h*w, c]
    return code_queries(codes, attn.to_k.weight, attn.heads, gain)


class OracleMapProcessor(CrossAttnMapProcessor):
    """:class:`CrossAttnMapProcessor` whose recorded queries carry the
    oracle's codes (docs/oracles.md)."""

    def __init__(self, name: str, store: Optional[AttentionStore],
                 one_token_shortcut: bool, scene: OracleScene) -> None:
        super().__init__(name, store, one_token_shortcut)
        self.scene = scene

    def recorded_query(self, attn, query: Tensor, hw: Tuple[int,
                                                            int]) -> Tensor:
        if self.scene.codes is None:
            return query
        return query + scene_queries(attn, self.scene.codes, hw,
                                     self.scene.gain).to(query)
