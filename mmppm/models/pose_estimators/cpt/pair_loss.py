# Copyright (c) mmppm contributors. All rights reserved.
"""The PPM loss of (prompt, image) pairs that both CPT recipes train on
(paper Eq. 6), and the base-keypoint pairs of the paper's recipe."""
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from ...builder import build_component
from ...map_modes import FitPairs, MapMode
from ..episodes import support_targets


def base_keypoint_pairs(data_samples: Sequence, num_base: int,
                        device) -> Tuple[Tensor, Tensor, Tensor]:
    """The (image, base prompt) pairs of a training batch with a visible
    keypoint: image ids ``[N]``, prompt ids ``[N]`` (each sample's
    ``keypoint_offset`` + k) and targets ``[N, H, W]``. A batch mixes
    categories with different K, so targets are read per sample."""
    img_ids, prompt_ids, pair_targets = [], [], []
    for b, sample in enumerate(data_samples):
        offset = int(sample.metainfo['keypoint_offset'])
        targets, visible = support_targets([sample])  # [1, K_b, H, W]
        ks = torch.nonzero(visible[0] > 0).flatten()
        if offset + visible.shape[1] > num_base:
            raise UserError(
                f'keypoint_offset {offset} + K {visible.shape[1]} exceeds '
                f'train_cfg.num_base_keypoints={num_base}')
        img_ids.append(torch.full_like(ks, b))
        prompt_ids.append(ks + offset)
        pair_targets.append(targets[0, ks])  # [n_b, H, W]
    return (torch.cat(img_ids).to(device), torch.cat(prompt_ids).to(device),
            torch.cat(pair_targets).to(device))


def pair_loss(
        model,
        latents: Tensor,
        prompts: Tensor,
        pairs: FitPairs,
        generator: Optional[torch.Generator] = None) -> Dict[str, Tensor]:
    """The PPM loss of (prompt, image) pairs with gradients to the prompts
    and to ``Phi`` / ``P_bar``: the head's loss of the terms the map mode of
    ``train_cfg.map_mode`` yields (the fit's own computation,
    :mod:`mmppm.models.map_modes`), all pairs in one chunk (one graph, as
    a training step back-propagates it) and without autocast.

    Args:
        model (PPMEstimator): Its backbone, ``context`` (Phi) and head.
        latents (Tensor): Clean latents ``[B, 4, h, w]``; the mode noises
            them (``generator``: None draws from torch's global RNG).
        prompts (Tensor): ``[P, 1, c]``; ``pairs.kpt_ids`` index its rows.
        pairs (FitPairs): The pairs, their targets and loss weights.
        generator (torch.Generator, optional): Source of the noise.
    """
    if not len(pairs):  # nothing visible: a zero loss on the graph
        return dict(loss_map=model.context(prompts).sum() * 0.)
    mode = build_component(
        dict(model.train_cfg['map_mode'], max_batch=len(pairs)), MapMode,
        'model.train_cfg.map_mode').bind(model.backbone, model.context)
    state = mode.prepare(latents, generator)
    (terms, ) = mode.fit_terms(state, prompts, pairs, generator)
    return model.head.loss(**terms)
