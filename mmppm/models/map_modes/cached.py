# Copyright (c) mmppm contributors. All rights reserved.
"""Maps from queries cached once per image: matrix products, no UNet."""
from typing import Iterator, Sequence

import torch
from torch import Tensor

from .base import FitPairs, MapMode, chunks


class CachedMaps(MapMode):
    """With a one-token context the prompt reaches a layer's map only
    through ``to_k(P)``; the layer queries ``q_l`` depend on it only through
    the spatially constant ``to_out(to_v(P))`` of earlier layers. Caching
    ``q_l`` once per image under a neutral (zero) prompt makes every map a
    matrix product (:meth:`SDCrossAttnBackbone.maps_from_queries`).
    Approximate (the prompt's effect on the features is ignored) and without
    the diffusion term; about 100x faster than :class:`ExactMaps`
    (docs/benchmark.md)."""

    has_diffusion_loss = False

    @torch.no_grad()
    def prepare(self, latents: Tensor, generator: torch.Generator) -> dict:
        """Cached per-layer queries of the noised latents (see
        :meth:`SDCrossAttnBackbone.layer_queries`)."""
        noisy, _ = self.backbone.add_noise(latents, generator)
        c = self.backbone.cross_attention_dim
        with self.autocast(latents.device):
            neutral = self.context(latents.new_zeros(latents.shape[0], 1, c))
            return self.backbone.layer_queries(noisy, neutral)

    def fit_terms(self, state: dict, prompts: Tensor, pairs: FitPairs,
                  generator: torch.Generator) -> Iterator[dict]:
        map_size = tuple(pairs.targets.shape[-2:])
        for sl in chunks(len(pairs), self.max_batch):
            # the context (Phi under CPT) is rebuilt per chunk: the caller
            # frees each chunk's graph after its backward, so no graph may
            # be shared between chunks
            context = self.context(prompts)
            with self.autocast(pairs.targets.device):
                maps = self.backbone.maps_from_queries(
                    state, context, pairs.img_ids[sl], pairs.kpt_ids[sl],
                    map_size)
            yield dict(maps=maps, targets=pairs.targets[sl], noise_pred=None,
                       noise=None, pair_weights=pairs.weights[sl])

    def fit_unet_calls(self, steps: int, num_pairs: int,
                       num_images: int) -> int:
        return 1  # prepare; the steps are matrix products

    def query_unet_calls(self, num_images: int, num_prompts: int) -> int:
        return 1  # prepare of the queries

    @torch.no_grad()
    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        cached = self.prepare(latents, generator)
        context = self.context(prompts)
        return self.all_pair_maps(
            latents.shape[0], prompts.shape[0], map_size, latents.device,
            lambda q, k: self.backbone.maps_from_queries(
                cached, context, q, k, map_size))
