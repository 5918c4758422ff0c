# Copyright (c) mmppm contributors. All rights reserved.
"""The diffusion term's regression target (paper Eq. 1) per model family.

SD 1.x and SD 2.x-base predict the noise ``eps``; SD 2.x at 768 px predicts
``v = sqrt(a_t) eps - sqrt(1 - a_t) Z`` (Salimans & Ho 2022; diffusers'
``DDPMScheduler.get_velocity``); a ``'sample'`` model predicts ``Z`` itself.
``L_dm = ||target - eps_theta(Z_t, P, t)||^2`` must compare with the target
of the model's own ``prediction_type`` (its scheduler config).
"""
from torch import Tensor

PREDICTION_TYPES = ('epsilon', 'v_prediction', 'sample')


def diffusion_target(prediction_type: str, latents: Tensor, noise: Tensor,
                     alpha_bar: Tensor) -> Tensor:
    """What the UNet is trained to output for ``Z_t = add_noise(Z, eps, t)``.

    Args:
        prediction_type (str): One of :data:`PREDICTION_TYPES`.
        latents (Tensor): ``Z``, ``[B, C, h, w]``.
        noise (Tensor): ``eps``, same shape.
        alpha_bar (Tensor): ``a_t`` (the scheduler's ``alphas_cumprod`` at
            each sample's t), ``[B]``.

    Returns:
        Tensor: The target, shape of ``latents``.
    """
    if prediction_type == 'epsilon':
        return noise
    if prediction_type == 'sample':
        return latents
    if prediction_type == 'v_prediction':
        a = alpha_bar.to(latents).reshape(-1, *([1] * (latents.ndim - 1)))
        return a.sqrt() * noise - (1 - a).sqrt() * latents
    raise ValueError(f'Unknown prediction_type {prediction_type!r}; PPM '
                     f'serves {PREDICTION_TYPES}')
