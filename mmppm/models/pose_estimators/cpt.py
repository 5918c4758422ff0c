# Copyright (c) mmppm contributors. All rights reserved.
"""Category-shared Prompt Training (paper Eq. 5-6) beside the estimator:
the training loss over base keypoints and the checks a CPT checkpoint must
pass before it is loaded (docs/cpt.md)."""
from typing import Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from ..utils import prompt_pair_weights
from .episodes import support_targets


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


def cpt_loss(model, inputs: Tensor, data_samples: list) -> Dict[str, Tensor]:
    """Paper Eq. 6 on single base instances: the PPM loss of every visible
    keypoint's base prompt ``P^k`` through ``Phi([P_bar, P^k])``, exact
    (with L_dm) or from cached queries (``train_cfg.map_features``)."""
    if model.base_prompts is None or model.prompt_encoder is None:
        raise RuntimeError(
            'Training needs a prompt_encoder (CPT) and '
            'train_cfg.num_base_keypoints (total keypoints of the training '
            'categories); plain PPM has nothing to train.')
    backbone, device = model.backbone, inputs.device
    num_base = model.base_prompts.shape[0]
    latents = backbone.encode(inputs, data_samples)  # [B, 4, h, w]
    noisy, target = backbone.add_noise(latents)
    img_ids, prompt_ids, pair_targets = base_keypoint_pairs(
        data_samples, num_base, device)
    weights = prompt_pair_weights(prompt_ids, num_base, 'mean')
    context = model.context(model.base_prompts[prompt_ids])
    map_size = tuple(pair_targets.shape[-2:])
    if model.train_cfg['map_features'] == 'cached':
        c = backbone.cross_attention_dim
        with torch.no_grad():
            cached = backbone.layer_queries(
                noisy, model.context(noisy.new_zeros(len(noisy), 1, c)))
        maps = backbone.maps_from_queries(
            cached, context, img_ids,
            torch.arange(len(prompt_ids), device=device), map_size)
        return model.head.loss(maps, pair_targets, None, None, weights)
    out = backbone(noisy[img_ids], context, map_size)
    return model.head.loss(out['maps'][:, 0], pair_targets,
                           out['noise_pred'], target[img_ids], weights)


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
