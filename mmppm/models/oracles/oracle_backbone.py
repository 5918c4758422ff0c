# Copyright (c) mmppm contributors. All rights reserved.
"""The frozen SD with an oracle planted in it: a backbone whose right
answer is known (docs/oracles.md)."""
from typing import Optional, Tuple

import torch
from mmpose.registry import MODELS
from torch import Tensor

from ..backbones import SDCrossAttnBackbone
from ..backbones.attn_processors import AttentionStore, CrossAttnMapProcessor
from .oracle_map_processor import OracleMapProcessor, OracleScene


@MODELS.register_module()
class OracleSDBackbone(SDCrossAttnBackbone):
    """:class:`SDCrossAttnBackbone` with an oracle's codes in its maps.

    The oracle (``PositionalOracle`` or ``PartOracle``) gives each image a
    code field ``z(x)`` in prompt space; :class:`OracleMapProcessor` adds
    ``gain * W_q z(x)`` (the query a prompt ``P`` answers with ``z(x) . P``)
    to the recorded layers' queries, so that a prompt reaching any pixel
    (positional) or keypoint n on every image (part) is known to exist. The
    codes travel as extra channels of :meth:`encode`'s latents, so they
    follow every indexing of an episode's latents; only the first 4
    channels are noised and fed to the UNet.

    Args:
        oracle (dict): ``PositionalOracle`` or ``PartOracle`` config.
        **kwargs: :class:`SDCrossAttnBackbone` arguments.
    """

    def __init__(self, oracle: dict, **kwargs) -> None:
        self.oracle = MODELS.build(oracle)
        self._scene = OracleScene(gain=float(self.oracle.gain))
        super().__init__(**kwargs)

    def _map_processor(self, name: str, store: Optional[AttentionStore],
                       one_token_shortcut: bool) -> CrossAttnMapProcessor:
        return OracleMapProcessor(name, store, one_token_shortcut, self._scene)

    def split_scene(self, latents: Tensor) -> Tuple[Tensor, Tensor]:
        """The UNet latent ``[B, 4, h, w]`` and the codes ``[B, c, h, w]``
        of :meth:`encode`'s output."""
        n = self.latent_channels
        return latents[:, :n], latents[:, n:]

    @torch.no_grad()
    def encode(self, images: Tensor, data_samples=None) -> Tensor:
        """SD latents with the oracle's codes as extra channels,
        ``[B, 4 + c, h, w]`` (a part oracle needs ``data_samples``: the
        images' keypoints)."""
        latents = super().encode(images)
        scene = self.oracle.scene(data_samples, latents.shape[0],
                                  tuple(latents.shape[-2:]),
                                  self.cross_attention_dim)
        return torch.cat([latents, scene.to(latents)], dim=1)

    def add_noise(self,
                  latents: Tensor,
                  generator: Optional[torch.Generator] = None
                  ) -> Tuple[Tensor, Tensor]:
        """Noise on the UNet channels only; the codes pass unchanged."""
        latents, scene = self.split_scene(latents)
        noisy, target = super().add_noise(latents, generator)
        return torch.cat([noisy, scene], dim=1), target

    def _begin_forward(self,
                       noisy_latents: Tensor,
                       tokens: slice,
                       keep_queries: bool = False) -> Tensor:
        latents, self._scene.codes = self.split_scene(noisy_latents)
        return super()._begin_forward(latents, tokens, keep_queries)
