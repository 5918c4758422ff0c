# Copyright (c) mmppm contributors. All rights reserved.
"""Maps from queries cached once per image: matrix products, no UNet."""
from typing import Iterator, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor

from ..backbones.attn_processors import normed_context
from ..utils import aggregate_layer_maps, cross_attn_map, infer_map_hw
from .base import FitPairs, MapMode, chunks, neutral_queries


def maps_from_queries(backbone, cached, prompts: Tensor, image_ids: Tensor,
                      prompt_ids: Tensor, map_size: Sequence[int]) -> Tensor:
    """Multi-layer maps of (image, prompt) pairs from cached queries.

    With a one-token context the map of layer l is
    ``sigmoid(q_l . to_k_l(P) / (heads * sqrt(d)))``: given the queries
    ``q_l`` of each image (:meth:`SDCrossAttnBackbone.layer_queries`), every
    map is a matrix product with the prompt's keys, no UNet pass.

    Args:
        backbone (SDCrossAttnBackbone): Its layers' ``to_k`` and heads.
        cached (LayerQueries): From :meth:`SDCrossAttnBackbone.
            layer_queries` (or :func:`~.base.neutral_queries`).
        prompts (Tensor): Context tokens ``[P, 1, c]``.
        image_ids (Tensor): ``[M]`` image of each pair.
        prompt_ids (Tensor): ``[M]`` prompt of each pair.
        map_size (Sequence[int]): ``(H, W)``.

    Returns:
        Tensor: ``[M, H, W]``.
    """
    context, tokens = backbone.build_context(prompts)
    layer_maps = {}
    for name in backbone.layer_names:
        attn = backbone.unet.get_submodule(name[:-len('.processor')])
        q = cached.queries[name]  # [B, N, inner]
        k = attn.to_k(normed_context(attn, context))[:, tokens].to(
            q.dtype)  # [P, T, inner]
        # all (image, prompt) scores at once, then the pairs
        maps = cross_attn_map(q,
                              k.reshape(1, -1, k.shape[-1]).expand(
                                  q.shape[0], -1, -1), attn.heads,
                              backbone.store.reduction)  # [B, P*T, N]
        maps = maps[image_ids, prompt_ids]  # [M, N]
        h, w = infer_map_hw(q.shape[1], cached.latent_hw)
        layer_maps[name] = maps.reshape(-1, 1, h, w)
    return aggregate_layer_maps(layer_maps, map_size)[:, 0]


@MODELS.register_module()
class CachedMaps(MapMode):
    """With a one-token context the prompt reaches a layer's map only
    through ``to_k(P)``; the layer queries ``q_l`` depend on it only through
    the spatially constant ``to_out(to_v(P))`` of earlier layers. Caching
    ``q_l`` once per image under a neutral (zero) prompt makes every map a
    matrix product (:func:`maps_from_queries`). Approximate (the prompt's
    effect on the features is ignored) and without the diffusion term;
    about 100x faster than :class:`ExactMaps` (docs/benchmark.md)."""

    has_diffusion_loss = False

    def prepare(self, latents: Tensor, generator: torch.Generator):
        """Cached per-layer queries of the noised latents under the neutral
        prompt through the context (:func:`~.base.neutral_queries`)."""
        return neutral_queries(self.backbone, latents, generator, self.context,
                               self.autocast)

    def select_images(self, state, img_ids: Tensor):
        return type(state)({
            name: q[img_ids]
            for name, q in state.queries.items()
        }, state.latent_hw)

    def fit_terms(self, state, prompts: Tensor, pairs: FitPairs,
                  generator: torch.Generator) -> Iterator[dict]:
        map_size = tuple(pairs.targets.shape[-2:])
        for sl in chunks(len(pairs), self.max_batch):
            # the context (Phi under CPT) is rebuilt per chunk: the caller
            # frees each chunk's graph after its backward, so no graph may
            # be shared between chunks
            context = self.context(prompts)
            with self.autocast(pairs.targets.device):
                maps = maps_from_queries(self.backbone, state, context,
                                         pairs.img_ids[sl], pairs.kpt_ids[sl],
                                         map_size)
            yield dict(
                maps=maps,
                targets=pairs.targets[sl],
                dm_pred=None,
                dm_target=None,
                pair_weights=pairs.weights[sl])

    @torch.no_grad()
    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        cached = self.prepare(latents, generator)
        context = self.context(prompts)
        return self.all_pair_maps(
            latents.shape[0], prompts.shape[0], map_size,
            latents.device, lambda q, k: maps_from_queries(
                self.backbone, cached, context, q, k, map_size))
