# Copyright (c) mmppm contributors. All rights reserved.
"""The contract of a CPT recipe (``model.train_cfg.recipe``)."""
from typing import Dict

from torch import Tensor


class CPTRecipe:
    """How Category-shared Prompt Training computes its loss (docs/cpt.md).

    A recipe is a registered component built from
    ``model.train_cfg.recipe=dict(type=...)``; the estimator's ``loss``
    calls it. It says which training data it needs, so that a config
    pairing it with the other kind is one line before anything is built
    (:func:`mmppm.utils.value_checks.check_train_recipe`).

    Attributes:
        dataset_mode (str): The ``MP100Dataset`` mode its train dataset
            must have: ``'train'`` (single instances) or ``'val'``
            (episodes).
        trains_base_prompts (bool): Whether it learns one prompt ``P^k``
            per base keypoint (``train_cfg.num_base_keypoints`` is then K).
        data (str): The training data it needs, for messages.

    Args:
        what (str): Config path named in errors. Defaults to
            ``'model.train_cfg.recipe'``.
    """
    dataset_mode = 'train'
    trains_base_prompts = True
    data = "single instances (MP100Dataset mode='train')"

    def __init__(self, what: str = 'model.train_cfg.recipe') -> None:
        self.what = what

    def check(self, train_cfg: dict) -> None:
        """Refuse ``train_cfg`` values the recipe cannot train with."""

    def loss(self, model, inputs, data_samples) -> Dict[str, Tensor]:
        """The training losses of a batch (``model`` is the estimator)."""
        raise NotImplementedError
