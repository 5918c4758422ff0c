# Copyright (c) mmppm contributors. All rights reserved.
"""The checks a CPT checkpoint must pass before it is loaded, and before
a CPT model predicts (docs/cpt.md)."""
from typing import List

from mmppm.utils.errors import UserError


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
