# Copyright (c) mmppm contributors. All rights reserved.
"""Category-shared Prompt Training (paper Eq. 5-6) beside the estimator:
the training loss over base keypoints and the checks a CPT checkpoint must
pass before it is loaded (docs/cpt.md)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from ..builder import build_component
from ..map_modes import FitPairs, MapMode
from ..utils import prompt_pair_weights
from .episodes import split_episode, support_targets


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


def cpt_loss(model, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
    """Paper Eq. 6 on single base instances: the PPM loss of every visible
    keypoint's base prompt ``P^k`` through ``Phi([P_bar, P^k])``, exact
    (with L_dm) or from cached queries (``train_cfg.map_mode``)."""
    if model.base_prompts is None or model.prompt_encoder is None:
        raise RuntimeError(
            'Training needs a prompt_encoder (CPT) and '
            'train_cfg.num_base_keypoints (total keypoints of the training '
            'categories); plain PPM has nothing to train.')
    device = inputs.device
    num_base = model.base_prompts.shape[0]
    latents = model.backbone.encode(inputs, data_samples)  # [B, 4, h, w]
    img_ids, prompt_ids, pair_targets = base_keypoint_pairs(
        data_samples, num_base, device)
    # one context per pair: pair i is prompt i of base_prompts[prompt_ids]
    pairs = FitPairs(
        torch.arange(len(prompt_ids), device=device), img_ids, pair_targets,
        prompt_pair_weights(prompt_ids, num_base, 'mean'))
    return pair_loss(model, latents, model.base_prompts[prompt_ids], pairs)


def episode_generator(model, index: int) -> torch.Generator:
    """The CPU generator of one training episode's fit and noise: seeded
    with ``train_cfg.seed``, the training iteration and the process rank,
    so a run is reproducible and processes draw different noise."""
    from mmengine.dist import get_rank
    from mmengine.logging import MessageHub
    it = int(MessageHub.get_current_instance().get_info('iter', 0) or 0)
    seed = (
        model.train_cfg['seed'] * 1_000_003 + it * 1009 + get_rank() * 101 +
        index)
    return torch.Generator().manual_seed(seed % (2**63))


def episodic_cpt_loss(model, inputs: List[Tensor],
                      data_samples: List[list]) -> Dict[str, Tensor]:
    """Episodic CPT (``train_cfg.recipe='episodic'``, docs/cpt.md): train
    ``P_bar`` and ``Phi`` through the test-time procedure, first order.

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

    Returns:
        dict: ``loss_map`` (queries, mean over episodes) and, logged but
        not optimised, ``fit_map`` (the supports' map loss at the end of
        the fits, per prompt as ``loss_map``) and ``fit_steps``.
    """
    if model.prompt_encoder is None:
        raise RuntimeError("train_cfg.recipe='episodic' trains a "
                           'prompt_encoder (CPT); the config has none.')
    backbone = model.backbone
    total, fit_map, steps = 0., 0., 0.
    for index, (images, samples) in enumerate(zip(inputs, data_samples)):
        supports, queries = split_episode(samples)
        if not queries:
            raise UserError("train_cfg.recipe='episodic' needs episodes "
                            'with queries (num_queries >= 1 in the train '
                            'dataset)')
        num_shots = len(supports)
        generator = episode_generator(model, index)
        latents = backbone.encode(images, samples)
        targets, visible = support_targets(supports)
        category = samples[0].metainfo.get('category_name', '?')
        with torch.enable_grad():
            fit = model.fit_prompts(
                latents[:num_shots],
                targets,
                visible,
                generator,
                what=f'training episode ({category})')
        q_targets, q_visible = support_targets(queries)
        device = latents.device
        pairs = FitPairs.from_visible(q_targets, q_visible, device, 'mean')
        losses = pair_loss(model, latents[num_shots:], fit.prompts.to(device),
                           pairs, generator)
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


def check_cpt_state_dict(model, state_dict: dict, prefix: str) -> bool:
    """Checks of a checkpoint about to load into ``model``; pops the base
    prompts where the model has none (test time). Returns whether it holds
    CPT weights (P_bar and Phi).

    A CPT checkpoint into a plain-PPM config, one with missing or extra
    encoder keys (mmengine would only warn, and a missing layer would stay
    random), or base prompts of another split or SD are errors.
    """
    encoder_keys = [
        k for k in state_dict if k.startswith(prefix + 'prompt_encoder.')
    ]
    if encoder_keys and model.prompt_encoder is None:
        raise UserError(
            'The checkpoint holds CPT weights (P_bar and Phi: '
            f'{encoder_keys[:2]} ...) but this config has no '
            'prompt_encoder, so they would be ignored and the run would '
            'be plain PPM. Test a CPT checkpoint with a PPM+CPT config '
            '(configs/ppm_cpt_split*.py), or drop the checkpoint for '
            'plain PPM.')
    if encoder_keys:
        _check_encoder_keys(model, encoder_keys, prefix)
    key = prefix + 'base_prompts'
    if model.base_prompts is None:  # test time: the P^k are not used
        state_dict.pop(key, None)
    if key in state_dict and model.base_prompts is not None and \
            state_dict[key].shape != model.base_prompts.shape:
        raise UserError(
            f'Checkpoint does not match the config: {key} has shape '
            f'{tuple(state_dict[key].shape)} (base keypoints K, 1, '
            f'channels c) but the model has '
            f'{tuple(model.base_prompts.shape)}. Check '
            'train_cfg.num_base_keypoints (the training split) and the SD '
            'model (model.backbone.pretrained).')
    return bool(encoder_keys)


def _check_encoder_keys(model, encoder_keys: List[str], prefix: str) -> None:
    """Exactly the config's P_bar and Phi."""
    expected = {
        f'{prefix}prompt_encoder.{k}'
        for k in model.prompt_encoder.state_dict()
    }
    missing = sorted(expected - set(encoder_keys))
    unexpected = sorted(set(encoder_keys) - expected)
    if missing or unexpected:
        raise UserError(
            'The CPT checkpoint does not match the config\'s prompt '
            f'encoder (P_bar and Phi): missing {missing[:4]}'
            f'{" ..." if len(missing) > 4 else ""}, unexpected '
            f'{unexpected[:4]}{" ..." if len(unexpected) > 4 else ""}. '
            'Test it with the config it was trained with (the '
            'prompt_encoder settings and model.backbone.pretrained, which '
            'sets its width), or retrain.')


def check_prompt_encoder_ready(model) -> None:
    """CPT predictions need P_bar and Phi from a checkpoint (or from
    training in this process): refuse a random MLP unless the config says
    ``test_cfg.allow_untrained_prompt_encoder=True``."""
    if (model.prompt_encoder is None or model.prompt_encoder_ready
            or model.test_cfg['allow_untrained_prompt_encoder']):
        return
    raise UserError(
        'This config has a CPT prompt encoder (P_bar and Phi) but no '
        'checkpoint was loaded into it: the predictions would use a '
        'random MLP. Pass the CPT checkpoint (tools/test.py CONFIG '
        'work_dirs/<run>/best.pth), or set model.test_cfg.'
        'allow_untrained_prompt_encoder=True to test an untrained '
        'encoder on purpose.')
