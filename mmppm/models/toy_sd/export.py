# Copyright (c) mmppm contributors. All rights reserved.
"""Write the trained toy SD as a diffusers Stable Diffusion folder."""
import json
import os
import os.path as osp

import torch
from torch import Tensor

from mmppm.utils.tiny_sd import SCHEDULER_CFG


@torch.no_grad()
def latent_scaling_factor(vae, images: Tensor) -> float:
    """``1 / std`` of the VAE latents of ``images``: how SD's 0.18215 was
    chosen (unit-variance latents)."""
    return float(1.0 / vae.encode(images).latent_dist.mean.std())


def export_toy_sd(out_dir: str, vae, unet=None, category_tokens=None,
                  meta: dict = None) -> str:
    """``save_pretrained`` the parts into an SD folder (safetensors).

    Args:
        out_dir (str): Folder to write (created).
        vae: The ``AutoencoderKL`` (its ``scaling_factor`` already set).
        unet: The ``UNet2DConditionModel``; None writes the VAE only.
        category_tokens (Tensor, optional): ``[num_categories, c]`` learned
            category tokens (row 0: the null token), written as
            ``category_tokens.safetensors`` for reference.
        meta (dict, optional): Recorded in ``model_index.json`` under
            ``_mmppm_toy_sd`` (command, iterations, losses, time).

    Returns:
        str: ``out_dir``.
    """
    from diffusers import DDPMScheduler
    os.makedirs(out_dir, exist_ok=True)
    vae.save_pretrained(osp.join(out_dir, 'vae'))
    index = dict(_class_name='StableDiffusionPipeline',
                 vae=['diffusers', 'AutoencoderKL'],
                 _mmppm_toy_sd=meta or {})
    if unet is not None:
        unet.save_pretrained(osp.join(out_dir, 'unet'))
        DDPMScheduler(**SCHEDULER_CFG).save_pretrained(
            osp.join(out_dir, 'scheduler'))
        index.update(unet=['diffusers', 'UNet2DConditionModel'],
                     scheduler=['diffusers', 'DDPMScheduler'])
    if category_tokens is not None:
        from safetensors.torch import save_file
        save_file({'category_tokens': category_tokens.detach().cpu()
                   .contiguous()},
                  osp.join(out_dir, 'category_tokens.safetensors'))
    with open(osp.join(out_dir, 'model_index.json'), 'w') as f:
        json.dump(index, f, indent=2)
    return out_dir
