# Copyright (c) mmppm contributors. All rights reserved.
"""Write the trained toy SD as a diffusers Stable Diffusion folder."""
import json
import os
import os.path as osp

import torch
from torch import Tensor

from mmppm.utils.random_sd import SCHEDULER_CFG


@torch.no_grad()
def latent_scaling_factor(vae, images: Tensor) -> float:
    """``1 / std`` of the VAE latents of ``images``: how SD's 0.18215 was
    chosen (unit-variance latents)."""
    return float(1.0 / vae.encode(images).latent_dist.mean.std())


def export_toy_sd(out_dir: str,
                  vae,
                  unet=None,
                  text_encoder=None,
                  tokenizer=None,
                  meta: dict = None) -> str:
    """``save_pretrained`` the parts into an SD folder (safetensors).

    With a UNet, text encoder and tokenizer the folder is a complete
    ``StableDiffusionPipeline`` (no safety checker) that
    ``StableDiffusionPipeline.from_pretrained`` loads and runs; with the VAE
    alone (stage 1) it holds ``vae/`` and ``model_index.json``.

    Args:
        out_dir (str): Folder to write (created).
        vae: The ``AutoencoderKL`` (its ``scaling_factor`` already set).
        unet: The ``UNet2DConditionModel``; None writes the VAE only.
        text_encoder: The ``CLIPTextModel`` (with ``unet``).
        tokenizer: The ``CLIPTokenizer`` (with ``unet``).
        meta (dict, optional): Recorded in ``model_index.json`` under
            ``_mmppm_toy_sd`` (command, iterations, losses, time).

    Returns:
        str: ``out_dir``.
    """
    from diffusers import DDPMScheduler, StableDiffusionPipeline
    os.makedirs(out_dir, exist_ok=True)
    index_file = osp.join(out_dir, 'model_index.json')
    if unet is None:
        vae.save_pretrained(osp.join(out_dir, 'vae'))
        index = dict(_class_name='StableDiffusionPipeline',
                     vae=['diffusers', 'AutoencoderKL'])
    else:
        if text_encoder is None or tokenizer is None:
            raise ValueError('a UNet is exported with its text encoder and '
                             'tokenizer (a complete pipeline)')
        pipe = StableDiffusionPipeline(
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            unet=unet,
            scheduler=DDPMScheduler(**SCHEDULER_CFG),
            safety_checker=None,
            feature_extractor=None,
            requires_safety_checker=False)
        pipe.save_pretrained(out_dir)
        with open(index_file, encoding='utf-8') as f:
            index = json.load(f)
    index['_mmppm_toy_sd'] = meta or {}
    with open(index_file, 'w', encoding='utf-8') as f:
        json.dump(index, f, indent=2)
    return out_dir
