# Copyright (c) mmppm contributors. All rights reserved.
"""Which Stable Diffusion a folder holds, and whether PPM can serve it.

PPM reads the cross-attention (``attn2``) maps of a ``UNet2DConditionModel``
whose input is the VAE latent. That covers

- ``'sd1'``: SD 1.x (768-channel CLIP ViT-L context, epsilon);
- ``'sd2'``: SD 2.x (1024-channel OpenCLIP ViT-H context; 2.x-base at 512 px
  predicts epsilon, 2.x at 768 px predicts v: the diffusion term follows the
  scheduler's ``prediction_type``);
- ``'sdxl'``: SDXL (2048-channel context from two text encoders, and
  ``added_cond_kwargs``: a pooled text embedding and six "time ids");
- ``'custom'``: any other UNet of that shape (the toy and random SDs).

It does not cover transformer-based models (SD 3, Flux: a ``transformer/``
folder instead of ``unet/``), UNets with extra input channels (inpainting:
9, depth: 5) or with other class / image conditioning (upscalers,
Kandinsky-style ``encoder_hid_dim``). docs/method.md lists the families.
"""
from typing import Optional

import torch
from torch import Tensor

from mmppm.utils.errors import UserError
from mmppm.utils.sd_loading import SUPPORTED
from ..utils import PREDICTION_TYPES

SD_FAMILIES = ('sd1', 'sd2', 'sdxl', 'custom')


def sd_family(unet_config,
              vae_config,
              scheduler_config,
              where: str = 'the model') -> str:
    """The family of a loaded SD (one of :data:`SD_FAMILIES`), or one error
    naming what was found when PPM cannot serve it."""
    found = []
    in_channels = int(unet_config.in_channels)
    latent = int(vae_config.latent_channels)
    if in_channels != latent:
        found.append(f'a UNet with {in_channels} input channels for '
                     f'{latent}-channel latents (inpainting / depth?)')
    extra = unet_config.get('addition_embed_type')
    if extra not in (None, 'text_time'):
        found.append(f'addition_embed_type={extra!r}')
    for key in ('class_embed_type', 'encoder_hid_dim_type'):
        if unet_config.get(key) is not None:
            found.append(f'{key}={unet_config.get(key)!r}')
    if unet_config.get('num_class_embeds') is not None:
        found.append(f"num_class_embeds={unet_config.get('num_class_embeds')}")
    prediction = scheduler_config.get('prediction_type', 'epsilon')
    if prediction not in PREDICTION_TYPES:
        found.append(f'prediction_type={prediction!r}')
    if found:
        raise UserError(f'{where} is not a UNet PPM can serve: '
                        f"{'; '.join(found)}. PPM serves {SUPPORTED}")
    if extra == 'text_time':
        return 'sdxl'
    dim = int(unet_config.cross_attention_dim)
    return {768: 'sd1', 1024: 'sd2'}.get(dim, 'custom')


def pooled_dim(unet_config) -> Optional[int]:
    """Channels of SDXL's pooled text embedding (``text_embeds``), or None
    for a UNet without added conditions."""
    if unet_config.get('addition_embed_type') != 'text_time':
        return None
    return int(unet_config.projection_class_embeddings_input_dim) - 6 * int(
        unet_config.addition_time_embed_dim)


def sdxl_time_ids(height: int, width: int) -> Tensor:
    """SDXL's micro-conditioning ``[1, 6]``: original size, crop top-left
    and target size, ``(h, w, 0, 0, h, w)`` for an uncropped image of the
    SD input size (as the SDXL pipeline sets them by default)."""
    return torch.tensor([[height, width, 0, 0, height, width]],
                        dtype=torch.float32)
