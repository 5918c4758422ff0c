# Copyright (c) mmppm contributors. All rights reserved.
"""Training a small text-to-image latent diffusion model on the toy world
(projects/toy_sd/README.md).

The two stages of Stable Diffusion, scaled down: :class:`ToyVAETrainer`
(an ``AutoencoderKL``) then :class:`ToyLDMTrainer` (a caption-conditioned
``UNet2DConditionModel`` and a ``CLIPTextModel`` on the frozen VAE's
latents, with the grounding term of :mod:`.grounding`), both on the
captioned pretraining scenes of :mod:`..datasets`. Both are
mmengine models trained with the Runner; :func:`export_toy_sd` writes the
result as a diffusers ``StableDiffusionPipeline`` folder that
``SDCrossAttnBackbone`` (and diffusers itself) loads with
``from_pretrained``.
"""
from .export import export_toy_sd
from .grounding import (GroundingAttnProcessor, balanced_bce, blob_masks,
                        grounding_losses, softmax_ce)
from .ldm_trainer import ToyLDMTrainer, sample_timesteps
from .text import build_text_encoder, build_tokenizer, encode_text
from .vae_trainer import ToyVAETrainer

__all__ = [
    'GroundingAttnProcessor', 'ToyLDMTrainer', 'ToyVAETrainer', 'softmax_ce',
    'balanced_bce', 'blob_masks', 'build_text_encoder', 'build_tokenizer',
    'encode_text', 'export_toy_sd', 'grounding_losses', 'sample_timesteps'
]
