# Copyright (c) mmppm contributors. All rights reserved.
"""The VAE latent scaling factor that gives latents of unit std.

SD multiplies the VAE latents by ``vae.config.scaling_factor`` before the
UNet sees them (``Z = E(I) * s``, paper Eq. 1); SD 1.x's 0.18215 was chosen
as ``1 / std`` of the latents of its training images, so that the image is
neither drowned in nor drowning the noise of timestep ``t``. A VAE that is
not SD's (a random one, a trained miniature) needs its own factor, measured
the same way: this is the one definition.
"""
import torch
from torch import Tensor


@torch.no_grad()
def unit_std_scaling_factor(vae, images: Tensor) -> float:
    """``1 / std`` of the VAE latents (posterior means) of ``images``.

    Args:
        vae: A diffusers ``AutoencoderKL``.
        images (Tensor): ``[N, 3, H, W]`` in ``[-1, 1]``.

    Returns:
        float: The factor ``s`` with ``std(E(images) * s) == 1``.
    """
    latents = vae.encode(images).latent_dist.mean  # [N, C, h, w]
    return float(1.0 / latents.std())
