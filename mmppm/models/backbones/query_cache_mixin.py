# Copyright (c) mmppm contributors. All rights reserved.
"""Queries of the captured layers cached once per image (the cached-maps
mode, docs/benchmark.md), and how sharply a map answers a prompt."""
import torch
from torch import Tensor

from ..utils import logit_sensitivity
from .backbone_args import LayerQueries


class QueryCacheMixin:
    """Methods of :class:`SDCrossAttnBackbone` over its layers' queries
    (``self.store``, ``self.layer_names``, ``self._begin_forward``)."""

    @torch.no_grad()
    def layer_queries(self, noisy_latents: Tensor,
                      context: Tensor) -> LayerQueries:
        """Queries ``q_l`` of the chosen layers for a fixed context.

        With a one-token context the prompt reaches the UNet only through a
        spatially constant ``to_out(to_v(P))`` per layer, and the map of layer
        l is ``sigmoid(q_l . to_k_l(P) / (heads * sqrt(d)))``. Computing
        ``q_l`` once per image with a neutral context turns every later map
        into matrix products (:func:`mmppm.models.map_modes.
        maps_from_queries`), ignoring the prompt's (small) effect on the
        features themselves.

        Args:
            noisy_latents (Tensor): ``[B, C, h, w]``.
            context (Tensor): ``[B, 1, c]`` neutral context tokens.

        Returns:
            LayerQueries: The queries ``{layer: [B, N_l, inner_l]}`` and the
            latent size.
        """
        context, tokens = self.build_context(context)
        latents = self._begin_forward(noisy_latents, tokens, keep_queries=True)
        latent_hw = tuple(latents.shape[-2:])
        try:
            self._run_unet(latents, context)
            return LayerQueries(
                {n: self.store.queries[n]
                 for n in self.layer_names}, latent_hw)
        finally:
            self.store.reset(latent_hw, tokens)

    @torch.no_grad()
    def logit_sensitivity(self, cached: LayerQueries) -> float:
        """Mean over the captured layers of
        :func:`mmppm.models.utils.logit_sensitivity` (the spread of map
        logits per unit of context token) for cached queries."""
        values = []
        for name, q in cached.queries.items():
            attn = self.unet.get_submodule(name[:-len('.processor')])
            values.append(logit_sensitivity(q, attn.to_k.weight, attn.heads))
        return float(torch.stack(values).mean())
