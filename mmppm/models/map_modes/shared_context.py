# Copyright (c) mmppm contributors. All rights reserved.
"""All prompts of an episode as the tokens of one context."""
from typing import Iterator, Sequence

import torch
from mmpose.registry import MODELS
from torch import Tensor

from .base import FitPairs, MapMode, chunks


@MODELS.register_module()
class SharedContextMaps(MapMode):
    """One UNet pass per image and step whose context holds all K prompts.

    Approximate: with K tokens the attention output is a softmax mixture,
    so a prompt's map also depends on the others. The diffusion loss is
    one per image (the mean over the support images).
    """

    def _context(self, prompts: Tensor, batch: int) -> Tensor:
        return self.context(prompts).transpose(0, 1).expand(batch, -1, -1)

    def fit_terms(self, state: Tensor, prompts: Tensor, pairs: FitPairs,
                  generator: torch.Generator) -> Iterator[dict]:
        noisy, dm_target = self.backbone.add_noise(state, generator)
        num_images = state.shape[0]
        with self.autocast(state.device):
            out = self.backbone(noisy, self._context(prompts, num_images),
                                tuple(pairs.targets.shape[-2:]))
        yield dict(
            maps=out['maps'][pairs.img_ids, pairs.kpt_ids],
            targets=pairs.targets,
            dm_pred=out['dm_pred'],
            dm_target=dm_target,
            pair_weights=pairs.weights,
            dm_weights=torch.full((num_images, ),
                                  1. / num_images,
                                  device=state.device))

    @torch.no_grad()
    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        noisy, _ = self.backbone.add_noise(latents, generator)
        maps = []
        for sl in chunks(latents.shape[0], self.max_batch):
            with self.autocast(latents.device):
                out = self.backbone(noisy[sl],
                                    self._context(prompts, sl.stop - sl.start),
                                    map_size)
            maps.append(out['maps'].float())
        return torch.cat(maps)  # [Q, K, H, W]
