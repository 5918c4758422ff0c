# Copyright (c) mmppm contributors. All rights reserved.
"""Category-shared Prompt Training (paper Eq. 5-6) beside the estimator:
the recipes (``model.train_cfg.recipe``, registered :class:`CPTRecipe`
classes), the pair loss they train and the checks a CPT checkpoint must
pass (docs/cpt.md)."""
from .base import CPTRecipe
from .checks import check_cpt_state_dict, check_prompt_encoder_ready
from .episodic_recipe import EpisodicCPTRecipe, episode_generator
from .pair_loss import base_keypoint_pairs, pair_loss
from .paper_recipe import PaperCPTRecipe

__all__ = [
    'CPTRecipe', 'EpisodicCPTRecipe', 'PaperCPTRecipe', 'base_keypoint_pairs',
    'check_cpt_state_dict', 'check_prompt_encoder_ready', 'episode_generator',
    'pair_loss'
]
