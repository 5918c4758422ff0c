# Copyright (c) mmppm contributors. All rights reserved.
"""The unit-std VAE latent scaling: scaled latents have std 1."""
import torch
from diffusers import AutoencoderKL

from mmppm.utils.latent_scaling import unit_std_scaling_factor


def test_scaled_latents_have_unit_std():
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(4, ),
        norm_num_groups=2,
        latent_channels=2,
        sample_size=16).eval()
    images = torch.rand(3, 3, 16, 16) * 2 - 1
    factor = unit_std_scaling_factor(vae, images)
    latents = vae.encode(images).latent_dist.mean
    assert abs(float((latents * factor).std()) - 1) < 1e-5
    assert factor == float(1 / latents.std())  # the definition, exactly
