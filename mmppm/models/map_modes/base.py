# Copyright (c) mmppm contributors. All rights reserved.
"""What every way of computing prompt maps shares."""
import copy
from contextlib import nullcontext
from typing import Callable, Iterator, NamedTuple, Optional, Sequence

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int
from ..utils import prompt_pair_weights


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

    @classmethod
    def from_visible(cls,
                     targets: Tensor,
                     visible: Tensor,
                     device: torch.device,
                     reduction: str = 'sum') -> 'FitPairs':
        """The (keypoint, image) pairs with a visible keypoint,
        keypoint-major, on ``device``: targets ``[S, K, H, W]``, visible
        ``[S, K]``; weights by :func:`prompt_pair_weights` with
        ``reduction`` (``'sum'``: each prompt's loss is the mean over its
        visible images, paper Eq. 4)."""
        kpt_ids, img_ids = torch.nonzero(visible.t() > 0, as_tuple=True)
        kpt_ids, img_ids = kpt_ids.to(device), img_ids.to(device)
        return cls(kpt_ids, img_ids,
                   targets.to(device)[img_ids, kpt_ids],
                   prompt_pair_weights(kpt_ids, visible.shape[1], reduction))


def sample_shots(usable: Tensor, num: int,
                 generator: torch.Generator) -> Tensor:
    """``num`` of the ``usable`` image indices (sorted), drawn without
    replacement from ``generator``."""
    pick = torch.randperm(len(usable), generator=generator)[:num]
    return usable[pick.to(usable.device)].sort().values


def chunks(n: int, size: int) -> Iterator[slice]:
    """Slices of at most ``size`` covering ``range(n)``."""
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def num_chunks(n: int, size: int) -> int:
    """How many slices :func:`chunks` cuts ``range(n)`` into."""
    return -(-n // size)


class MapMode:
    """How prompt maps are computed, during the fit and on queries.

    A mode is a registered component built from a config entry
    (``model.fitter.map_mode=dict(type='ExactMaps', max_batch=8)``, CPT's
    ``model.train_cfg.map_mode``); :meth:`bind` gives it the backbone, the
    prompt -> context function (Phi under CPT) and an autocast factory.
    Subclasses implement:

    - :meth:`prepare`: per-episode state of the support latents (computed
      once, e.g. cached queries);
    - :meth:`fit_terms`: the loss terms of one optimisation step, as one or
      more chunks of keyword arguments of ``PromptMatchingHead.loss`` (the
      caller sums their gradients);
    - :meth:`query_maps`: maps ``[Q, K, H, W]`` of every prompt on every
      image.

    What those cost in UNet passes is counted by the cost model,
    ``tools/analysis/mmppm_analysis/unet_calls.py``, keyed by the mode's class.

    Args:
        max_batch (int): Max (prompt, image) pairs per UNet call (gradient
            accumulation beyond it: same result). Defaults to 64.
        what (str): Config path named in errors. Defaults to
            ``'model.fitter.map_mode'``.
    """

    #: Whether the fit's loss has the diffusion term (paper Eq. 1).
    has_diffusion_loss = True

    def __init__(self,
                 max_batch: int = 64,
                 what: str = 'model.fitter.map_mode') -> None:
        if not is_int(max_batch) or max_batch < 1:
            raise UserError(f'{what}.max_batch must be an integer >= 1, got '
                            f'{max_batch!r}')
        self.max_batch = int(max_batch)
        self.backbone = None
        self.context: Optional[Callable] = None
        self.autocast: Optional[Callable] = None

    def bind(self,
             backbone,
             context: Callable,
             autocast: Optional[Callable] = None) -> 'MapMode':
        """A copy of this mode computing maps with these parts.

        Args:
            backbone (SDCrossAttnBackbone): The frozen SD.
            context (Callable): Prompts ``[N, 1, c]`` -> UNet context tokens.
            autocast (Callable, optional): ``autocast(device)`` context
                manager factory. Defaults to none (full precision).
        """
        bound = copy.copy(self)
        bound.backbone = backbone
        bound.context = context
        bound.autocast = autocast or (lambda device: nullcontext())
        return bound

    def prepare(self, latents: Tensor,
                generator: torch.Generator) -> Optional[object]:
        """Per-episode state of the support latents ``[S, C, h, w]``.

        Defaults to the latents themselves.
        """
        return latents

    def select_images(self, state, img_ids: Tensor):
        """The part of :meth:`prepare`'s ``state`` that belongs to the
        support images ``img_ids`` (a step on a subset of the shots,
        ``PromptFitter``'s ``shots_per_step``). Defaults to
        ``state[img_ids]`` (a tensor of latents)."""
        return state[img_ids]

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

    def all_pair_maps(self, num_images: int, num_prompts: int,
                      map_size: Sequence[int], device: torch.device,
                      pair_maps: Callable[[Tensor, Tensor], Tensor]) -> Tensor:
        """Maps ``[I, P, H, W]`` of every (image, prompt) pair, computed
        ``max_batch`` pairs at a time by ``pair_maps(image_ids,
        prompt_ids) -> [M, H, W]``."""
        img_ids = torch.arange(
            num_images, device=device).repeat_interleave(num_prompts)
        prompt_ids = torch.arange(
            num_prompts, device=device).repeat(num_images)
        maps = []
        for sl in chunks(len(img_ids), self.max_batch):
            with self.autocast(device):
                maps.append(pair_maps(img_ids[sl], prompt_ids[sl]).float())
        return torch.cat(maps).reshape(num_images, num_prompts, *map_size)


@torch.no_grad()
def neutral_queries(backbone,
                    latents: Tensor,
                    generator: Optional[torch.Generator],
                    context: Optional[Callable] = None,
                    autocast: Optional[Callable] = None):
    """Queries of the captured layers under the neutral (zero) prompt.

    The latents ``[B, C, h, w]`` are noised with ``generator``; the UNet
    runs once with an all-zero one-token prompt, through ``context`` (Phi
    under CPT) if given, else as it is
    (:meth:`SDCrossAttnBackbone.layer_queries`). What
    :class:`~.cached.CachedMaps` computes its maps from and what the
    fitter's ``prompt_scale='auto'`` measures the logit spread of.

    Returns:
        LayerQueries: ``{layer: [B, N_l, inner_l]}`` and the latent size.
    """
    noisy, _ = backbone.add_noise(latents, generator)
    zeros = latents.new_zeros(latents.shape[0], 1,
                              backbone.cross_attention_dim)
    with (autocast or (lambda device: nullcontext()))(latents.device):
        neutral = zeros if context is None else context(zeros)
        return backbone.layer_queries(noisy, neutral)
