# Copyright (c) mmppm contributors. All rights reserved.
"""The per-episode prompt optimisation of PPM (paper Eq. 4)."""
import logging
from typing import Callable, List, NamedTuple, Optional, Union

import torch
from mmengine.logging import print_log
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils import check_finite
from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_finite_number, is_int
from ..builder import build_component
from ..map_modes import (ExactMaps, FitPairs, MapMode, neutral_queries,
                         sample_shots)
from ..utils import loss_plateaued


class FitResult(NamedTuple):
    """What a prompt fit returns.

    Attributes:
        prompts (Tensor): The learned prompts ``[K, 1, c]`` (detached).
        losses (list[float]): Total loss of every step taken.
        map_losses (list[float]): Its map term (paper Eq. 4's first term).
    """
    prompts: Tensor
    losses: List[float]
    map_losses: List[float]

    @property
    def steps(self) -> int:
        """Steps taken (fewer than configured after an early stop)."""
        return len(self.losses)


def check_early_stop(cfg, what: str) -> Optional[dict]:
    """``None`` or ``dict(patience=N >= 1, min_rel_improvement=r in [0,
    1))``; errors name ``what``."""
    if cfg is None:
        return None
    keys = {'patience', 'min_rel_improvement'}
    if not isinstance(cfg, dict) or set(cfg) != keys:
        raise UserError(f'{what} must be None or dict(patience=N, '
                        f'min_rel_improvement=r), got {cfg!r}')
    if not is_int(cfg['patience']) or cfg['patience'] < 1:
        raise UserError(f"{what}.patience must be an integer >= 1, got "
                        f"{cfg['patience']!r}")
    if not is_finite_number(cfg['min_rel_improvement']) or not (
            0 <= cfg['min_rel_improvement'] < 1):
        raise UserError(f'{what}.min_rel_improvement must be in [0, 1), got '
                        f"{cfg['min_rel_improvement']!r}")
    return dict(cfg)


@MODELS.register_module()
class PromptFitter:
    """Learn one pseudo prompt per keypoint on the support (paper Eq. 4).

    Prompts start at ``N(0, prompt_init_std^2)`` (or given ones, e.g. the
    keypoint names'), Adam moves them ``steps`` times on the loss of
    ``head.loss`` over every (keypoint, support image) pair with a visible
    keypoint. A :class:`~mmppm.models.map_modes.MapMode` computes the maps
    (exact UNet passes, cached queries, one shared context), ``max_batch``
    pairs per chunk: each chunk's gradient is taken at once and its graph
    freed, so memory is that of one chunk and the sum equals one batch.
    Works the same for PPM and PPM+CPT (the mode rebuilds the CPT context
    per chunk). Built by :class:`PPMEstimator` from its ``fitter`` config
    (``model.fitter=dict(type='PromptFitter', steps=..., map_mode=dict(
    type='ExactMaps', max_batch=...))``); the query maps use the same map
    mode.

    Args:
        steps (int): Adam steps. Defaults to 100 (paper: not given).
        lr (float): Adam learning rate. Defaults to 2e-3 (paper).
        prompt_init_std (float): Std of the random init. Defaults to 1.0.
        prompt_scale (None | float | str): Units of the optimised
            parameter: None = context units (the paper), a number, or
            ``'auto'``: the supports' map-logit spread per unit of prompt,
            so lr and init mean the same on any SD (docs/method.md).
        early_stop (dict, optional): ``dict(patience, min_rel_improvement)``:
            stop once the map loss has not improved by that fraction over
            ``patience`` steps. Defaults to None.
        shots_per_step (int, optional): Each step fits on this many of the
            support images (those with a visible keypoint), drawn anew from
            the episode's generator: a k-shot fit at ``shots_per_step / k``
            of the per-step work (a speed variant, docs/benchmark.md). None
            or a number >= the shots: every image at every step (the
            paper; bit-identical). Defaults to None.
        map_mode (dict): The registered
            :class:`~mmppm.models.map_modes.MapMode` computing the maps of
            the fit and of the queries: ``dict(type='ExactMaps')`` (the
            paper: one UNet pass per (prompt, image) pair), ``'CachedMaps'``
            (queries cached once per image, maps by matmul, no L_dm: fast,
            approximate) or ``'SharedContextMaps'`` (all prompts as tokens
            of one context, one UNet pass per image: fast, approximate),
            each with its ``max_batch``. Defaults to
            ``dict(type='ExactMaps')``.
        what (str): Config path named in errors. Defaults to
            ``'model.fitter'``.
    """

    def __init__(self,
                 steps: int = 100,
                 lr: float = 2e-3,
                 prompt_init_std: float = 1.0,
                 prompt_scale: Union[None, float, str] = None,
                 early_stop: Optional[dict] = None,
                 shots_per_step: Optional[int] = None,
                 map_mode: dict = dict(type='ExactMaps'),
                 what: str = 'model.fitter') -> None:
        if not is_int(steps) or steps < 0:
            raise UserError(f'{what}.steps must be an integer >= 0, got '
                            f'{steps!r}')
        if not is_finite_number(lr) or not 0 < lr <= 1e3:
            raise UserError(f'{what}.lr must be a number in (0, 1000], got '
                            f'{lr!r}')
        if not is_finite_number(prompt_init_std) or prompt_init_std < 0:
            raise UserError(f'{what}.prompt_init_std must be a number >= 0, '
                            f'got {prompt_init_std!r}')
        if not (prompt_scale is None or prompt_scale == 'auto' or
                (is_finite_number(prompt_scale) and prompt_scale > 0)):
            raise UserError(f"{what}.prompt_scale must be None, 'auto' or a "
                            f'number > 0, got {prompt_scale!r}')
        if shots_per_step is not None and (not is_int(shots_per_step)
                                           or shots_per_step < 1):
            raise UserError(f'{what}.shots_per_step must be None or an '
                            f'integer >= 1, got {shots_per_step!r}')
        self.steps = int(steps)
        self.shots_per_step = (None if shots_per_step is None else
                               int(shots_per_step))
        self.lr = float(lr)
        self.prompt_init_std = float(prompt_init_std)
        self.prompt_scale = prompt_scale
        self.early_stop = check_early_stop(early_stop, f'{what}.early_stop')
        #: Unbound: :meth:`MapMode.bind` gives it the backbone and context.
        self.map_mode: MapMode = build_component(map_mode, MapMode,
                                                 f'{what}.map_mode')

    def approximations(self) -> List[str]:
        """How this fit departs from the paper's (exact maps, every shot at
        every step, all steps): ``[]`` for the paper's."""
        found = []
        if not isinstance(self.map_mode, ExactMaps):
            found.append(f'map_mode {type(self.map_mode).__name__}')
        if self.shots_per_step is not None:
            found.append(f'{self.shots_per_step} shots per step')
        if self.early_stop is not None:
            found.append('early stop')
        return found

    @torch.no_grad()
    def scale_for(self, mode: MapMode, support_latents: Tensor) -> float:
        """The prompt scale for these supports: 1 for None, the number
        given, or for ``'auto'`` the inverse of the supports' map logit
        spread per unit of context token
        (:meth:`SDCrossAttnBackbone.logit_sensitivity`, one feature pass
        under the raw neutral prompt with fixed noise,
        :func:`~mmppm.models.map_modes.neutral_queries`)."""
        if self.prompt_scale is None:
            return 1.
        if self.prompt_scale != 'auto':
            return float(self.prompt_scale)
        cached = neutral_queries(
            mode.backbone,
            support_latents,
            torch.Generator().manual_seed(0),
            autocast=mode.autocast)
        return 1. / max(mode.backbone.logit_sensitivity(cached), 1e-6)

    def plateaued(self, map_losses: List[float]) -> bool:
        """The early-stop rule on the map losses so far."""
        cfg = self.early_stop
        stop = cfg is not None and loss_plateaued(map_losses, cfg['patience'],
                                                  cfg['min_rel_improvement'])
        if stop:
            print_log(
                f'early stop after {len(map_losses)}/{self.steps} steps (map '
                f'loss {map_losses[0]:.4g} -> {map_losses[-1]:.4g})',
                logger='current',
                level=logging.DEBUG)
        return stop

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
        """Optimise one prompt per keypoint on the supports.

        Args:
            mode (MapMode): How maps are computed, bound to the backbone
                and context (:meth:`MapMode.bind` of :attr:`map_mode`, or
                another mode).
            head: The ``PromptMatchingHead`` whose ``loss`` is minimised.
            support_latents (Tensor): ``[S, C, h, w]`` from
                ``SDCrossAttnBackbone.encode``.
            targets (Tensor): ``[S, K, H, W]`` Gaussian heatmaps.
            visible (Tensor): ``[S, K]``; pairs with 0 give no loss.
            generator (torch.Generator): CPU generator of the random init
                and each step's noise.
            init (Tensor, optional): Initial prompts ``[K, 1, c]``.
            progress (callable, optional): ``progress(done, steps)`` after
                every step.
            episode (str): The episode's label, named in errors
                (``'episode 3 (chair)'``).

        Returns:
            FitResult: The prompts and the losses of every step taken.
        """
        device = support_latents.device
        num_kpts = visible.shape[1]
        c = mode.backbone.cross_attention_dim
        params = (torch.randn(num_kpts, 1, c, generator=generator) *
                  self.prompt_init_std).to(device)
        scale = self.scale_for(mode, support_latents)
        if init is not None:
            if tuple(init.shape) != (num_kpts, 1, c):
                raise UserError(f'init prompts must be [{num_kpts}, 1, {c}],'
                                f' got {tuple(init.shape)}')
            params = init.detach().to(device, params.dtype) / scale
        params.requires_grad_(True)
        optimizer = torch.optim.Adam([params], lr=self.lr)
        pairs = FitPairs.from_visible(targets, visible, device)
        state = mode.prepare(support_latents, generator)
        # images with a visible keypoint: those a step may draw
        usable = torch.nonzero((visible.cpu() > 0).any(dim=1)).flatten()
        subsample = (
            self.shots_per_step is not None
            and self.shots_per_step < len(usable))
        losses, map_losses = [], []
        for step in range(self.steps):
            step_state, step_pairs = state, pairs
            if subsample:
                shots = sample_shots(usable, self.shots_per_step, generator)
                step_state = mode.select_images(state, shots)
                step_pairs = FitPairs.from_visible(targets[shots],
                                                   visible[shots], device)
            # prompts as a leaf: each chunk's graph is freed after its
            # backward; d loss / d params = scale * d loss / d prompts
            prompts = (params.detach() * scale).requires_grad_(True)
            grad = torch.zeros_like(prompts)
            total = total_map = 0.
            for terms in mode.fit_terms(step_state, prompts, step_pairs,
                                        generator):
                terms_loss = head.loss(**terms)
                loss = sum(terms_loss.values())
                grad += torch.autograd.grad(loss, prompts)[0]
                total += float(loss.detach())
                total_map += float(terms_loss['loss_map'].detach())
            check_finite(torch.tensor(total), f'{episode}, step {step}')
            params.grad = grad * scale
            optimizer.step()
            losses.append(total)
            map_losses.append(total_map)
            if progress is not None:
                progress(step + 1, self.steps)
            if self.plateaued(map_losses):
                break
        return FitResult((params * scale).detach(), losses, map_losses)
