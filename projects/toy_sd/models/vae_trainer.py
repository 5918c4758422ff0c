# Copyright (c) mmppm contributors. All rights reserved.
"""Stage 1 of the toy SD: a small AutoencoderKL."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.models.data_preprocessors import build_data_preprocessor
from mmppm.utils.value_checks import non_negative_number, require


@MODELS.register_module()
class ToyVAETrainer(BaseModel):
    """Trains a diffusers ``AutoencoderKL`` (SD's first stage).

    Loss: L1 reconstruction (per pixel, images in [-1, 1]) plus ``kl_weight``
    times the KL of the latent posterior (per latent element), as SD's
    autoencoder without the adversarial and perceptual terms.

    Args:
        vae (dict): ``AutoencoderKL`` keyword arguments.
        kl_weight (float): Weight of the KL term. Defaults to 1e-6.
        train_patch (int, optional): Train on one random ``train_patch``
            square of each image (a fully convolutional VAE, i.e. without
            mid-block attention, then learns the same at a fraction of the
            cost). Defaults to None (whole images).
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor`` (RGB in [-1, 1]).
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 vae: dict,
                 kl_weight: float = 1e-6,
                 train_patch: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        require(kl_weight, non_negative_number, 'model.kl_weight',
                'a finite number >= 0', '1e-06')
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        from diffusers import AutoencoderKL
        self.vae = AutoencoderKL(**vae)
        self.kl_weight = float(kl_weight)
        self.train_patch = train_patch

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'loss'):
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if mode == 'loss':
            return self.loss(inputs)
        if mode in ('predict', 'tensor'):
            return self.reconstruct(inputs)
        raise RuntimeError(f'Invalid mode "{mode}"')

    def _patches(self, images: Tensor) -> Tensor:
        """One random ``train_patch`` square per image."""
        p = self.train_patch
        h, w = images.shape[-2:]
        if p is None or (p >= h and p >= w):
            return images
        ys = torch.randint(0, h - p + 1, (len(images), )).tolist()
        xs = torch.randint(0, w - p + 1, (len(images), )).tolist()
        return torch.stack(
            [img[:, y:y + p, x:x + p] for img, y, x in zip(images, ys, xs)])

    def loss(self, images: Tensor) -> Dict[str, Tensor]:
        """``loss_rec`` (L1) and ``loss_kl`` of images ``[B, 3, H, W]``."""
        images = self._patches(images)
        posterior = self.vae.encode(images).latent_dist
        recon = self.vae.decode(posterior.sample()).sample
        latent_numel = posterior.mean[0].numel()
        return dict(
            loss_rec=(recon - images).abs().mean(),
            loss_kl=self.kl_weight * posterior.kl().mean() / latent_numel)

    @torch.no_grad()
    def reconstruct(self, images: Tensor) -> Tensor:
        """Decoded posterior means, ``[B, 3, H, W]`` in [-1, 1]."""
        latents = self.vae.encode(images).latent_dist.mean
        return self.vae.decode(latents).sample.clamp(-1, 1)
