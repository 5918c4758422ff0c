# Copyright (c) mmppm contributors. All rights reserved.
"""An episodic CPT recipe: P_bar and Phi trained through the test-time
fit (docs/cpt.md, "Episodic CPT")."""
from typing import Dict, List

import torch
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ...map_modes import FitPairs
from ..episodes import split_episode, support_targets
from .base import CPTRecipe
from .pair_loss import pair_loss


def episode_generator(model, index: int) -> torch.Generator:
    """The CPU generator of one training episode's fit and noise: seeded
    with ``train_cfg.seed``, the training iteration and the process rank,
    so a run is reproducible and processes draw different noise."""
    it = int(MessageHub.get_current_instance().get_info('iter', 0) or 0)
    seed = (
        model.train_cfg['seed'] * 1_000_003 + it * 1009 + get_rank() * 101 +
        index)
    return torch.Generator().manual_seed(seed % (2**63))


@MODELS.register_module()
class EpisodicCPTRecipe(CPTRecipe):
    """Train ``P_bar`` and ``Phi`` through the test-time procedure, first
    order.

    For each base-category episode of the batch: fresh prompts are fitted
    on its supports exactly as at test time (:meth:`PPMEstimator.
    fit_prompts`: the configured fitter and map mode through the current
    ``Phi``, which the fit does not update); the loss is the PPM map loss
    of those prompts, through ``Phi([P_bar, P])`` (paper Eq. 5), on the
    episode's queries, whose Gaussian targets the training pipeline makes.
    Gradients reach ``P_bar`` and ``Phi`` only through that final context
    (the fitted prompts are constants: a first-order meta-gradient), so
    training asks of Phi what testing needs: that prompts fitted on one
    support of a category find its keypoints on other instances. There
    are no base prompts ``P^k``.

    The loss dict: ``loss_map`` (queries, mean over episodes) and, logged
    but not optimised, ``fit_map`` (the supports' map loss at the end of
    the fits, per prompt as ``loss_map``) and ``fit_steps``.
    """
    dataset_mode = 'val'
    trains_base_prompts = False
    data = ("episodes (MP100Dataset mode='val' with a query pipeline that "
            'makes targets, configs/cpt/ppm_cpt_toy-sd_mp100-bench_episodic'
            '.py)')

    def check(self, train_cfg: dict) -> None:
        if train_cfg['num_base_keypoints']:
            raise UserError(
                f"{self.what}.type='EpisodicCPTRecipe' trains no base "
                'prompts: leave model.train_cfg.num_base_keypoints None')

    def loss(self, model, inputs: List[Tensor],
             data_samples: List[list]) -> Dict[str, Tensor]:
        if model.prompt_encoder is None:
            raise RuntimeError('EpisodicCPTRecipe trains a prompt_encoder '
                               '(CPT); the config has none.')
        backbone = model.backbone
        total, fit_map, steps = 0., 0., 0.
        for index, (images, samples) in enumerate(zip(inputs, data_samples)):
            supports, queries = split_episode(samples)
            if not queries:
                raise UserError(
                    'EpisodicCPTRecipe needs episodes with queries '
                    '(num_queries >= 1 in the train dataset)')
            num_shots = len(supports)
            generator = episode_generator(model, index)
            latents = backbone.encode(images)
            targets, visible = support_targets(supports)
            category = samples[0].metainfo.get('category_name', '?')
            with torch.enable_grad():
                fit = model.fit_prompts(
                    latents[:num_shots],
                    targets,
                    visible,
                    generator,
                    episode=f'training episode ({category})')
            q_targets, q_visible = support_targets(queries)
            device = latents.device
            pairs = FitPairs.from_visible(q_targets, q_visible, device, 'mean')
            losses = pair_loss(model, latents[num_shots:],
                               fit.prompts.to(device), pairs, generator)
            total = total + sum(losses.values())
            # the fit's loss sums over prompts; per prompt, as loss_map
            num_fitted = int((visible.sum(0) > 0).sum())
            fit_map += (
                fit.map_losses[-1] /
                max(num_fitted, 1) if fit.map_losses else float('nan'))
            steps += fit.steps
        n = len(inputs)
        return dict(
            loss_map=total / n,
            fit_map=torch.tensor(fit_map / n),
            fit_steps=torch.tensor(steps / n))
