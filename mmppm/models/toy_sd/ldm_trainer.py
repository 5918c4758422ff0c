# Copyright (c) mmppm contributors. All rights reserved.
"""Stage 2 of the toy SD: a category-conditioned UNet on frozen latents."""
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.tiny_sd import SCHEDULER_CFG
from ..data_preprocessors import build_data_preprocessor


@MODELS.register_module()
class ToyLDMTrainer(BaseModel):
    """Trains a ``UNet2DConditionModel`` with SD's noise-prediction loss.

    ``Z = E(I) * scaling_factor`` from a frozen VAE (loaded with
    ``from_pretrained``, kept outside the module tree so it is neither
    trained nor checkpointed), ``t ~ U{0, ..., T-1}``, DDPM noise as SD 1.x,
    and the loss ``||eps - eps_theta(Z_t, t, c)||^2`` (paper Eq. 1). The
    context ``c`` is one token: a learned embedding of the image's category,
    replaced by a learned null token with probability ``cond_dropout`` (so
    the UNet also works without a category, as SD with an empty prompt).
    One token is also how PPM conditions the UNet.

    Args:
        unet (dict): ``UNet2DConditionModel`` keyword arguments.
        vae_pretrained (str): SD folder holding the stage-1 VAE in
            ``vae/`` (as :func:`export_toy_sd` writes it).
        num_categories (int): Largest category id + 1 (ids index the
            embedding table; id 0 is the null token).
        cond_dropout (float): Probability of the null tokens. Defaults to
            0.1.
        part_tokens (int): Learned tokens per category after its category
            token. Defaults to 0 (one-token contexts).
        single_token_prob (float): Probability that a batch gets the
            category token alone. Defaults to 0.
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor``.
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 unet: dict,
                 vae_pretrained: str,
                 num_categories: int,
                 cond_dropout: float = 0.1,
                 part_tokens: int = 0,
                 single_token_prob: float = 0.,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        from diffusers import (AutoencoderKL, DDPMScheduler,
                               UNet2DConditionModel)
        self.unet = UNet2DConditionModel(**unet)
        vae = AutoencoderKL.from_pretrained(vae_pretrained, subfolder='vae')
        vae.requires_grad_(False).eval()
        self._frozen = dict(vae=vae)
        self.scheduler = DDPMScheduler(**SCHEDULER_CFG)
        self.category_tokens = nn.Embedding(
            num_categories, self.unet.config.cross_attention_dim)
        nn.init.normal_(self.category_tokens.weight, std=1.0)
        self.cond_dropout = float(cond_dropout)
        self.part_tokens = int(part_tokens)
        self.single_token_prob = float(single_token_prob)
        if self.part_tokens:
            c = self.unet.config.cross_attention_dim
            self.category_part_tokens = nn.Parameter(
                torch.randn(num_categories, self.part_tokens, c))

    def context(self, ids: Tensor) -> Tensor:
        """UNet context of category ids (0: null), ``[B, 1 + M, c]``, or
        ``[B, 1, c]`` for a single-token batch."""
        tokens = self.category_tokens(ids)[:, None]  # [B, 1, c]
        single = float(torch.rand(())) < self.single_token_prob
        if not self.part_tokens or single:
            return tokens
        return torch.cat([tokens, self.category_part_tokens[ids]], dim=1)

    @property
    def vae(self):
        return self._frozen['vae']

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self._frozen['vae']._apply(fn, *args, **kwargs)
        return self

    def forward(self, inputs: Tensor, data_samples=None, mode: str = 'loss'):
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'ToyLDMTrainer has only the "loss" mode, got '
                           f'"{mode}"')

    def loss(self, images: Tensor, data_samples: list) -> Dict[str, Tensor]:
        with torch.no_grad():
            latents = self.vae.encode(images).latent_dist.mean
            latents = latents * self.vae.config.scaling_factor
        ids = torch.tensor([int(s.metainfo['category_id'])
                            for s in data_samples],
                           device=images.device)
        drop = torch.rand(len(ids), device=images.device) < self.cond_dropout
        ids = torch.where(drop, torch.zeros_like(ids), ids)
        context = self.context(ids)
        noise = torch.randn_like(latents)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps,
                          (len(ids), ), device=images.device)
        noisy = self.scheduler.add_noise(latents, noise, t)
        pred = self.unet(noisy, t, encoder_hidden_states=context).sample
        return dict(loss_dm=(pred - noise).pow(2).mean())
