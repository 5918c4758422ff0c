# Copyright (c) mmppm contributors. All rights reserved.
"""The paper's computation: one UNet pass per (prompt, image) pair."""
from typing import Iterator, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor

from .base import FitPairs, MapMode, chunks


@MODELS.register_module()
class ExactMaps(MapMode):
    """Every (prompt, image) pair runs the UNet with the prompt as its
    context (paper Eq. 2-4), ``max_batch`` pairs per call; the support is
    noised once per step and shared by its pairs."""

    def fit_terms(self, state: Tensor, prompts: Tensor, pairs: FitPairs,
                  generator: torch.Generator) -> Iterator[dict]:
        noisy, dm_target = self.backbone.add_noise(state, generator)
        map_size = tuple(pairs.targets.shape[-2:])
        for sl in chunks(len(pairs), self.max_batch):
            k, s = pairs.kpt_ids[sl], pairs.img_ids[sl]
            with self.autocast(state.device):
                out = self.backbone(noisy[s], self.context(prompts[k]),
                                    map_size)
            yield dict(
                maps=out['maps'][:, 0],
                targets=pairs.targets[sl],
                dm_pred=out['dm_pred'],
                dm_target=dm_target[s],
                pair_weights=pairs.weights[sl])

    @torch.no_grad()
    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        context = self.context(prompts)  # [K, 1, c]
        noisy, _ = self.backbone.add_noise(latents, generator)
        return self.all_pair_maps(
            latents.shape[0], prompts.shape[0],
            map_size, latents.device, lambda q, k: self.backbone(
                noisy[q], context[k], map_size)['maps'][:, 0])
