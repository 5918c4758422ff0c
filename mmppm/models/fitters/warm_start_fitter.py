# Copyright (c) mmppm contributors. All rights reserved.
"""A prompt fit in two stages: a cheap map mode first, then the fitter's
own map mode from where it stopped (a speed variant of paper Eq. 4)."""
from typing import Callable, List, Optional

import torch
from mmpose.registry import MODELS
from torch import Tensor

from ..builder import build_component
from ..map_modes import MapMode
from .prompt_fitter import FitResult, PromptFitter


@MODELS.register_module()
class WarmStartFitter(PromptFitter):
    """Fit the prompts with ``warm_start`` (e.g. cached maps: no UNet pass
    per step), then take this fitter's ``steps`` with its ``map_mode`` (e.g.
    shared-context or exact maps) from the warm prompts; the queries' maps
    use ``map_mode``.

    Most of the per-step cost of the paper's exact fit goes to finding a
    region of prompt space that the cached maps find for almost nothing;
    the second stage corrects what the cached approximation gets wrong
    (the prompt's effect on the features, and the diffusion term) in a few
    steps. With ``steps=0`` the prompts are the warm fit's exactly (tested);
    docs/benchmark.md measures the trade-off.

    Args:
        warm_start (dict): The first stage, a :class:`PromptFitter` config
            (its own ``steps``, ``lr``, ``prompt_init_std``, ``map_mode``).
            Defaults to 100 steps on ``CachedMaps``.
        **kwargs: The second stage: :class:`PromptFitter`'s arguments
            (``steps``, ``lr``, ``map_mode``, ...; ``prompt_init_std`` is
            unused: it starts at the warm prompts).
    """

    def __init__(self,
                 warm_start: dict = dict(
                     type='PromptFitter',
                     steps=100,
                     map_mode=dict(type='CachedMaps')),
                 what: str = 'model.fitter',
                 **kwargs) -> None:
        super().__init__(what=what, **kwargs)
        self.warm_start: PromptFitter = build_component(
            warm_start, PromptFitter, f'{what}.warm_start')

    def approximations(self) -> List[str]:
        return [
            f'warm start ({self.warm_start.steps} steps, '
            f'{", ".join(self.warm_start.approximations()) or "exact maps"})'
        ] + super().approximations()

    def fit(self,
            mode: MapMode,
            head,
            support_latents: Tensor,
            targets: Tensor,
            visible: Tensor,
            generator: torch.Generator,
            init: Optional[Tensor] = None,
            progress: Optional[Callable[[int, int], None]] = None,
            episode: str = 'episode') -> FitResult:
        """The warm fit (its map mode bound to ``mode``'s backbone, context
        and autocast), then :meth:`PromptFitter.fit` from its prompts.
        Losses of both stages, in order (the warm stage's have no diffusion
        term when its maps are cached)."""
        total = self.warm_start.steps + self.steps

        def stage(offset):
            if progress is None:
                return None
            return lambda done, _: progress(offset + done, total)

        warm_mode = self.warm_start.map_mode.bind(mode.backbone, mode.context,
                                                  mode.autocast)
        warm = self.warm_start.fit(warm_mode, head, support_latents, targets,
                                   visible, generator, init, stage(0), episode)
        final = super().fit(mode, head, support_latents, targets, visible,
                            generator, warm.prompts,
                            stage(self.warm_start.steps), episode)
        return FitResult(final.prompts, warm.losses + final.losses,
                         warm.map_losses + final.map_losses)
