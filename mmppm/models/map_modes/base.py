# Copyright (c) mmppm contributors. All rights reserved.
"""What every way of computing prompt maps shares."""
from typing import Callable, Iterator, NamedTuple, Optional, Sequence

import torch
from torch import Tensor


class FitPairs(NamedTuple):
    """The (keypoint, support image) pairs of a prompt fit.

    Attributes:
        kpt_ids (Tensor): ``[N]`` keypoint (prompt) of each pair.
        img_ids (Tensor): ``[N]`` support image of each pair.
        targets (Tensor): ``[N, H, W]`` Gaussian target of each pair.
        weights (Tensor): ``[N]`` loss weight of each pair
            (:func:`mmppm.models.utils.prompt_pair_weights`).
    """
    kpt_ids: Tensor
    img_ids: Tensor
    targets: Tensor
    weights: Tensor

    def __len__(self) -> int:
        return len(self.kpt_ids)


def chunks(n: int, size: int) -> Iterator[slice]:
    """Slices of at most ``size`` covering ``range(n)``."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def num_chunks(n: int, size: int) -> int:
    """How many slices :func:`chunks` cuts ``range(n)`` into."""
    return -(-n // size)


class MapMode:
    """How prompt maps are computed, during the fit and on queries.

    A mode is given the backbone, the prompt -> context function (Phi under
    CPT), the largest number of (prompt, image) pairs per UNet call and an
    autocast factory. Subclasses implement:

    - :meth:`prepare`: per-episode state of the support latents (computed
      once, e.g. cached queries);
    - :meth:`fit_terms`: the loss terms of one optimisation step, as one or
      more chunks of keyword arguments of ``PromptMatchingHead.loss`` (the
      caller sums their gradients);
    - :meth:`query_maps`: maps ``[Q, K, H, W]`` of every prompt on every
      image;
    - :meth:`fit_unet_calls` and :meth:`query_unet_calls`: how many UNet
      passes those make (pure arithmetic on the sizes, for reports).

    Args:
        backbone (SDCrossAttnBackbone): The frozen SD.
        context (Callable): Prompts ``[N, 1, c]`` -> UNet context tokens.
        max_batch (int): Max (prompt, image) pairs per UNet call.
        autocast (Callable): ``autocast(device)`` context manager factory.
    """

    #: Whether the fit's loss has the diffusion term (paper Eq. 1).
    has_diffusion_loss = True

    def __init__(self, backbone, context: Callable, max_batch: int,
                 autocast: Callable) -> None:
        self.backbone = backbone
        self.context = context
        self.max_batch = max_batch
        self.autocast = autocast

    def prepare(self, latents: Tensor,
                generator: torch.Generator) -> Optional[object]:
        """Per-episode state of the support latents ``[S, C, h, w]``.

        Defaults to the latents themselves.
        """
        return latents

    def fit_terms(self, state, prompts: Tensor, pairs: FitPairs,
                  generator: torch.Generator) -> Iterator[dict]:
        """Yield ``PromptMatchingHead.loss`` keyword arguments of one step.

        Args:
            state: What :meth:`prepare` returned.
            prompts (Tensor): ``[K, 1, c]`` (requires grad).
            pairs (FitPairs): The pairs to fit.
            generator (torch.Generator): Source of this step's noise.
        """
        raise NotImplementedError

    def query_maps(self, latents: Tensor, prompts: Tensor,
                   map_size: Sequence[int],
                   generator: torch.Generator) -> Tensor:
        """Maps ``[Q, K, H, W]`` of prompts ``[K, 1, c]`` on latents
        ``[Q, C, h, w]``."""
        raise NotImplementedError

    def fit_unet_calls(self, steps: int, num_pairs: int,
                       num_images: int) -> int:
        """UNet passes of :meth:`prepare` and ``steps`` steps of
        :meth:`fit_terms` over ``num_pairs`` pairs on ``num_images``
        support images."""
        raise NotImplementedError

    def query_unet_calls(self, num_images: int, num_prompts: int) -> int:
        """UNet passes of :meth:`query_maps` for ``num_prompts`` prompts on
        ``num_images`` images."""
        raise NotImplementedError

    def unet_calls(self, steps: int, num_pairs: int, num_supports: int,
                   num_queries: int, num_prompts: int) -> int:
        """UNet passes of one episode: a fit (:meth:`fit_unet_calls`), then
        the query maps (:meth:`query_unet_calls`)."""
        return (self.fit_unet_calls(steps, num_pairs, num_supports) +
                self.query_unet_calls(num_queries, num_prompts))

    def all_pair_maps(self, num_images: int, num_prompts: int,
                      map_size: Sequence[int], device: torch.device,
                      pair_maps: Callable[[Tensor, Tensor], Tensor]
                      ) -> Tensor:
        """Maps ``[I, P, H, W]`` of every (image, prompt) pair, computed
        ``max_batch`` pairs at a time by ``pair_maps(image_ids,
        prompt_ids) -> [M, H, W]``."""
        img_ids = torch.arange(num_images,
                               device=device).repeat_interleave(num_prompts)
        prompt_ids = torch.arange(num_prompts, device=device).repeat(num_images)
        maps = []
        for sl in chunks(len(img_ids), self.max_batch):
            with self.autocast(device):
                maps.append(pair_maps(img_ids[sl], prompt_ids[sl]).float())
        return torch.cat(maps).reshape(num_images, num_prompts, *map_size)
