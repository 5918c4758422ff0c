# Copyright (c) mmppm contributors. All rights reserved.
"""The paper's CPT recipe (Eq. 6): base prompts on single instances."""
from typing import Dict

import torch
from mmpose.registry import MODELS
from torch import Tensor

from ...map_modes import FitPairs
from ...utils import prompt_pair_weights
from .base import CPTRecipe
from .pair_loss import base_keypoint_pairs, pair_loss


@MODELS.register_module()
class PaperCPTRecipe(CPTRecipe):
    """Paper Eq. 6 on single base instances: ``P_bar``, ``Phi`` and one
    prompt ``P^k`` per base keypoint, trained by the PPM loss of every
    visible keypoint's ``P^k`` through ``Phi([P_bar, P^k])``, exact (with
    L_dm) or from cached queries (``train_cfg.map_mode``). The default
    recipe."""
    dataset_mode = 'train'
    trains_base_prompts = True
    data = "single instances (MP100Dataset mode='train')"

    def loss(self, model, inputs: Tensor,
             data_samples: list) -> Dict[str, Tensor]:
        if model.base_prompts is None or model.prompt_encoder is None:
            raise RuntimeError(
                'Training needs a prompt_encoder (CPT) and '
                'train_cfg.num_base_keypoints (total keypoints of the '
                'training categories); plain PPM has nothing to train.')
        device = inputs.device
        num_base = model.base_prompts.shape[0]
        latents = model.backbone.encode(inputs)  # [B, 4, h, w]
        img_ids, prompt_ids, pair_targets = base_keypoint_pairs(
            data_samples, num_base, device)
        # one context per pair: pair i is prompt i of base_prompts[prompt_ids]
        pairs = FitPairs(
            torch.arange(len(prompt_ids), device=device), img_ids,
            pair_targets, prompt_pair_weights(prompt_ids, num_base, 'mean'))
        return pair_loss(model, latents, model.base_prompts[prompt_ids], pairs)
