# Copyright (c) mmppm contributors. All rights reserved.
"""The frozen SD with an oracle planted in it: a backbone whose right
answer is known (docs/oracles.md)."""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmpose.registry import MODELS
from torch import Tensor

from ..backbones import SDCrossAttnBackbone
from ..backbones.attn_processors import CrossAttnMapProcessor
from ..utils import infer_map_hw
from ..utils.oracle_codes import code_lift, code_queries

RGB = 3


def scene_queries(scene: Tensor, lift: Tensor, heads: int, hw: Tuple[int, int],
                  gain: float) -> Tensor:
    """Oracle queries ``[B, h*w, inner]`` of one layer (its
    :func:`code_lift` and heads) from the scene codes ``[B, c, h0, w0]``
    (area-averaged to the layer's ``(h, w)``)."""
    if tuple(scene.shape[-2:]) != tuple(hw):
        scene = F.adaptive_avg_pool2d(scene, hw)
    codes = scene.flatten(2).transpose(1, 2)  # [B, h*w, c]
    return code_queries(codes, lift, heads, gain)


@MODELS.register_module()
class OracleSDBackbone(SDCrossAttnBackbone):
    """:class:`SDCrossAttnBackbone` with an oracle's codes in its maps.

    The oracle (``PositionalOracle`` or ``PartOracle``) gives each image a
    code field ``z(x)`` in prompt space; the recorded layers' queries gain
    ``gain * W_q z(x)`` (the query a prompt ``P`` answers with ``z(x) . P``),
    so that a prompt reaching any pixel (positional) or keypoint n on every
    image (part) is known to exist.

    Nothing here is a hook of the production backbone: the codes travel as
    extra channels of :meth:`encode`'s latents (so they follow every
    indexing of an episode's latents; :meth:`add_noise` leaves them
    unnoised), and two kinds of torch module hooks do the rest -- a forward
    pre-hook on ``unet.conv_in`` takes the codes off the UNet's input, and a
    forward hook on each recorded layer's ``to_q`` adds their queries. A
    part oracle reads each image's keypoints from the extra input channels
    :class:`OracleDataPreprocessor` appends.

    Args:
        oracle (dict): ``PositionalOracle`` or ``PartOracle`` config.
        **kwargs: :class:`SDCrossAttnBackbone` arguments.
    """

    def __init__(self, oracle: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.oracle = MODELS.build(oracle)
        self._codes: Optional[Tensor] = None
        self.unet.conv_in.register_forward_pre_hook(self._take_codes)
        for name, proc in self.unet.attn_processors.items():
            if (isinstance(proc, CrossAttnMapProcessor)
                    and proc.store is not None):
                attn = self.unet.get_submodule(name[:-len('.processor')])
                attn.to_q.register_forward_hook(self._query_hook(attn))

    def split_scene(self, latents: Tensor) -> Tuple[Tensor, Tensor]:
        """The UNet latent ``[B, 4, h, w]`` and the codes ``[B, c, h, w]``
        of :meth:`encode`'s output."""
        n = self.latent_channels
        return latents[:, :n], latents[:, n:]

    @torch.no_grad()
    def encode(self, images: Tensor) -> Tensor:
        """SD latents with the oracle's codes as extra channels,
        ``[B, 4 + c, h, w]``; channels of ``images`` past RGB are the
        keypoints :class:`OracleDataPreprocessor` appends (a part oracle
        needs them)."""
        latents = super().encode(images[:, :RGB])
        answers = images[:, RGB:, 0, 0] if images.shape[1] > RGB else None
        scene = self.oracle.scene(answers, latents.shape[0],
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

    def _take_codes(self, module, args):
        """``unet.conv_in`` pre-hook: keep the codes of this UNet call and
        feed the UNet its own channels."""
        sample = args[0]
        latents, codes = self.split_scene(sample)
        self._codes = codes if codes.shape[1] else None
        return (latents, ) + tuple(args[1:])

    def _query_hook(self, attn):
        """``to_q`` forward hook of one recorded layer: its output plus the
        codes' queries (the layer's lift computed once per device: the
        weights are frozen)."""
        lifts = {}

        def hook(module, args, query: Tensor) -> Tensor:
            if self._codes is None:
                return query
            if query.device not in lifts:
                lifts[query.device] = code_lift(attn.to_k.weight).to(
                    query.device)
            hw = infer_map_hw(query.shape[1], tuple(self._codes.shape[-2:]))
            return query + scene_queries(self._codes, lifts[query.device],
                                         attn.heads, hw,
                                         self.oracle.gain).to(query)

        return hook
