# Copyright (c) mmppm contributors. All rights reserved.
"""Stage 2 of the toy SD: a caption-conditioned UNet and its text encoder
on frozen latents of captioned toy scenes."""
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.model import BaseModel
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.datasets.toy_world import all_words
from mmppm.models.data_preprocessors import build_data_preprocessor
from mmppm.utils.random_sd import SCHEDULER_CFG
from mmppm.utils.value_checks import non_negative_number, require
from .grounding import GroundingAttnProcessor, grounding_losses
from .text import build_text_encoder, build_tokenizer, encode_text


def sample_timesteps(batch: int,
                     num_train_timesteps: int,
                     low_t_prob: float,
                     low_t_max: int,
                     generator=None) -> Tensor:
    """``t`` per sample: with ``low_t_prob`` uniform in ``[0, low_t_max)``
    (where PPM reads its maps, t = 10), else uniform over the schedule as
    SD 1.x."""
    full = torch.randint(
        0, num_train_timesteps, (batch, ), generator=generator)
    low = torch.randint(0, max(1, low_t_max), (batch, ), generator=generator)
    pick = torch.rand(batch, generator=generator) < low_t_prob
    return torch.where(pick, low, full)


@MODELS.register_module()
class ToyLDMTrainer(BaseModel):
    """Trains a ``UNet2DConditionModel`` and a ``CLIPTextModel`` together on
    captioned scenes (``CaptionedToyScenes``), as the LDM paper trained its
    text-to-image model.

    Loss: SD's noise prediction ``||eps - eps_theta(Z_t, t, tau(y))||^2``
    (paper Eq. 1) with ``Z = E(I) * scaling_factor`` from the frozen stage-1
    VAE and ``tau(y)`` the encoded caption (padded to ``max_length`` as the
    SD pipeline pads), plus the grounding terms of
    :mod:`.grounding` on every ``attn2`` layer, weighted by
    ``ground_ce_weight`` and ``ground_bce_weight``.

    Args:
        unet (dict): ``UNet2DConditionModel`` keyword arguments.
        text_encoder (dict): Keyword arguments of
            :func:`.text.build_text_encoder` (``num_hidden_layers``,
            ``num_attention_heads``, ``intermediate_size``); its hidden size
            is the UNet's ``cross_attention_dim``.
        vae_pretrained (str): SD folder holding the stage-1 VAE in ``vae/``.
        max_length (int): Tokens per caption (BOS + words + EOS + padding).
            Defaults to 24.
        ground_ce_weight (float): Weight of the softmax-over-pixels term.
            Defaults to 0.05.
        ground_bce_weight (float): Weight of the sigmoid-level term.
            Defaults to 0.05.
        low_t_prob (float): See :func:`sample_timesteps`. Defaults to 0.5.
        low_t_max (int): See :func:`sample_timesteps`. Defaults to 100.
        single_word_prob (float): Probability that a batch is conditioned on
            one caption word per image as a one-token context (PPM's
            layout), grounded the same way. Defaults to 0.
        words (Sequence[str], optional): The vocabulary. Defaults to the
            toy world's 96 blob words.
        data_preprocessor (dict, optional): Defaults to
            ``EpisodeDataPreprocessor`` (RGB in [-1, 1]).
        init_cfg (dict, optional): Unused.
    """

    def __init__(self,
                 unet: dict,
                 text_encoder: dict,
                 vae_pretrained: str,
                 max_length: int = 24,
                 ground_ce_weight: float = 0.05,
                 ground_bce_weight: float = 0.05,
                 low_t_prob: float = 0.5,
                 low_t_max: int = 100,
                 single_word_prob: float = 0.,
                 words: Optional[Sequence[str]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        for key, value in (('ground_ce_weight', ground_ce_weight),
                           ('ground_bce_weight', ground_bce_weight)):
            require(value, non_negative_number, f'model.{key}',
                    'a finite number >= 0', '0.2')
        super().__init__(
            data_preprocessor=build_data_preprocessor(data_preprocessor),
            init_cfg=init_cfg)
        from diffusers import (AutoencoderKL, DDPMScheduler,
                               UNet2DConditionModel)
        self.unet = UNet2DConditionModel(**unet)
        c = int(self.unet.config.cross_attention_dim)
        self.tokenizer = build_tokenizer(
            list(words) if words is not None else all_words(), max_length)
        self.text_encoder = build_text_encoder(
            len(self.tokenizer), c, max_length, **text_encoder)
        vae = AutoencoderKL.from_pretrained(vae_pretrained, subfolder='vae')
        vae.requires_grad_(False).eval()
        self._frozen = dict(vae=vae)
        self.scheduler = DDPMScheduler(**SCHEDULER_CFG)
        self.ground_ce_weight = float(ground_ce_weight)
        self.ground_bce_weight = float(ground_bce_weight)
        self.low_t_prob = float(low_t_prob)
        self.low_t_max = int(low_t_max)
        self.single_word_prob = float(single_word_prob)
        self.logits: Dict[str, Tensor] = {}
        processors = dict(self.unet.attn_processors)
        for name in processors:
            if name.endswith('attn2.processor'):
                processors[name] = GroundingAttnProcessor(name, self.logits)
        self.unet.set_attn_processor(processors)

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

    def _contexts(self, samples: list):
        """Context ``[B, T, c]`` and the grounded words: sample ids, token
        positions and blobs."""
        words = [list(s.metainfo['words']) for s in samples]
        blobs = [list(s.metainfo['word_blobs']) for s in samples]
        sample_ids, token_ids, picked = [], [], []
        if float(torch.rand(())) < self.single_word_prob:
            texts = []
            for b, (ws, bs) in enumerate(zip(words, blobs)):
                j = int(torch.randint(len(ws), ())) if ws else None
                texts.append(ws[j] if ws else '')
                if ws:
                    sample_ids.append(b)
                    token_ids.append(0)
                    picked.append(torch.as_tensor(bs[j]))
            context = encode_text(self.tokenizer, self.text_encoder,
                                  texts)[:, 1:2]  # the word alone
        else:
            context = encode_text(self.tokenizer, self.text_encoder,
                                  [' '.join(ws) for ws in words])
            last = self.tokenizer.model_max_length - 2  # before EOS
            for b, (ws, bs) in enumerate(zip(words, blobs)):
                for j, blob in enumerate(bs[:last]):
                    sample_ids.append(b)
                    token_ids.append(j + 1)  # after BOS; one token a word
                    picked.append(torch.as_tensor(blob))
        device = context.device
        return (context,
                torch.tensor(sample_ids, dtype=torch.long, device=device),
                torch.tensor(token_ids, dtype=torch.long,
                             device=device), picked)

    def loss(self, images: Tensor, data_samples: List) -> Dict[str, Tensor]:
        with torch.no_grad():
            latents = self.vae.encode(images).latent_dist.mean
            latents = latents * self.vae.config.scaling_factor
        context, sample_ids, token_ids, blobs = self._contexts(data_samples)
        noise = torch.randn_like(latents)
        t = sample_timesteps(
            len(latents), self.scheduler.config.num_train_timesteps,
            self.low_t_prob, self.low_t_max).to(latents.device)
        noisy = self.scheduler.add_noise(latents, noise, t)
        self.logits.clear()
        pred = self.unet(noisy, t, encoder_hidden_states=context).sample
        ground = grounding_losses(self.logits, sample_ids, token_ids, blobs,
                                  tuple(latents.shape[-2:]),
                                  int(images.shape[-1]))
        self.logits.clear()
        return dict(
            loss_dm=(pred - noise).pow(2).mean(),
            loss_ground_ce=self.ground_ce_weight * ground['loss_ground_ce'],
            loss_ground_bce=self.ground_bce_weight * ground['loss_ground_bce'])
