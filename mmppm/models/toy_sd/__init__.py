# Copyright (c) mmppm contributors. All rights reserved.
"""Training a small latent diffusion model on the toy world (docs/toy_sd.md).

The two stages of Stable Diffusion, scaled down: :class:`ToyVAETrainer`
(an ``AutoencoderKL``) then :class:`ToyLDMTrainer` (a
``UNet2DConditionModel`` on the frozen VAE's latents, conditioned on one
learned category token). Both are mmengine models trained with the Runner;
:func:`export_toy_sd` writes the result as a diffusers Stable Diffusion
folder that ``SDCrossAttnBackbone`` loads with ``from_pretrained``.
"""
from .export import export_toy_sd, latent_scaling_factor
from .ldm_trainer import ToyLDMTrainer
from .vae_trainer import ToyVAETrainer

__all__ = [
    'ToyLDMTrainer', 'ToyVAETrainer', 'export_toy_sd', 'latent_scaling_factor'
]
