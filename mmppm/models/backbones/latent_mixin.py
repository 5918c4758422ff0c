# Copyright (c) mmppm contributors. All rights reserved.
"""The backbone's side outside cross-attention: VAE latents, noise at the
timestep, text embeddings of the SD folder's own encoder."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmppm.utils import load_text_components
from mmppm.utils.errors import UserError
from ..utils import diffusion_target
from .text_prompts import text_embeddings


class LatentMixin:
    """Methods of :class:`SDCrossAttnBackbone` that read its frozen VAE,
    scheduler and text encoder (``self.vae``, ``self.scheduler``,
    ``self.timestep``, ``self.input_size``, ``self.pretrained``)."""

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> Tensor:
        """Context tokens ``[N, c]`` of texts (e.g. keypoint names) from
        the SD folder's own text encoder
        (:func:`.text_prompts.text_embeddings`). The text encoder and
        tokenizer are loaded on the first call (``text_encoder/`` and
        ``tokenizer/`` of ``pretrained``) and kept, frozen, outside the
        module tree."""
        if 'text_encoder' not in self._frozen:
            parts = load_text_components(
                self.pretrained, torch_dtype=self.dtype)
            encoder = parts['text_encoder'].requires_grad_(False).eval()
            self._frozen['text_encoder'] = encoder.to(self.unet.device)
            self._tokenizer = parts['tokenizer']
        tokens = text_embeddings(self._tokenizer, self._frozen['text_encoder'],
                                 texts)
        if tokens.shape[-1] != self.cross_attention_dim:
            raise UserError(
                f'the text encoder of {self.pretrained!r} gives '
                f'{tokens.shape[-1]}-channel tokens but the UNet takes '
                f'{self.cross_attention_dim} (cross_attention_dim)')
        return tokens

    # --------------------------------------------------------------- compute
    @property
    def dtype(self) -> torch.dtype:
        return self.unet.dtype

    @property
    def latent_channels(self) -> int:
        """Channels of the UNet's input latent (4 for SD)."""
        return int(self.unet.config.in_channels)

    @torch.no_grad()
    def encode(self, images: Tensor) -> Tensor:
        """VAE latents of images, scaled by the VAE scaling factor.

        Args:
            images (Tensor): RGB images in [-1, 1], ``[B, 3, H, W]``; resized
                to ``input_size`` if needed.

        Returns:
            Tensor: ``[B, 4, h, w]`` latents (the distribution's mean).
        """
        if images.ndim != 4 or images.shape[1] != 3:
            raise UserError(
                f'{type(self).__name__}.encode takes RGB images [B, 3, H, W], '
                f'got {tuple(images.shape)} (OracleDataPreprocessor, which '
                'appends keypoint channels, goes with OracleSDBackbone only)')
        w, h = self.input_size
        if tuple(images.shape[-2:]) != (h, w):
            images = F.interpolate(
                images, size=(h, w), mode='bilinear', align_corners=False)
        dist = self.vae.encode(images.to(self.vae.dtype)).latent_dist
        return dist.mean * self.vae.config.scaling_factor

    def add_noise(self,
                  latents: Tensor,
                  generator: Optional[torch.Generator] = None
                  ) -> Tuple[Tensor, Tensor]:
        """Noise latents to timestep t: ``Z_t = add_noise(Z, eps, t)``.

        Args:
            latents (Tensor): ``[B, 4, h, w]``.
            generator (torch.Generator, optional): Source of ``eps``.

        Returns:
            tuple[Tensor, Tensor]: ``Z_t`` and the UNet's regression target
            of the diffusion term (paper Eq. 1), both ``[B, 4, h, w]``:
            ``eps`` for an epsilon model (SD 1.x, SD 2.x-base, SDXL), ``v``
            for a v-prediction one (SD 2.x at 768 px), as the scheduler's
            ``prediction_type`` says (:func:`diffusion_target`).
        """
        # Drawn in float32 on the generator's device, so a seed gives the
        # same noise whatever the latents' device and dtype.
        noise = torch.randn(
            latents.shape,
            generator=generator,
            device=generator.device if generator is not None else
            latents.device).to(latents.device, latents.dtype)
        t = torch.full((latents.shape[0], ),
                       self.timestep,
                       dtype=torch.long,
                       device=latents.device)
        noisy = self.scheduler.add_noise(latents, noise, t)
        alpha_bar = self.scheduler.alphas_cumprod.to(latents.device)[t]
        target = diffusion_target(self.prediction_type, latents, noise,
                                  alpha_bar)
        return noisy, target

    @property
    def prediction_type(self) -> str:
        """What the UNet predicts (``scheduler.config.prediction_type``)."""
        return str(self.scheduler.config.get('prediction_type', 'epsilon'))
