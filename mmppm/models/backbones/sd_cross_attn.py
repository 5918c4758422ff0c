# Copyright (c) mmppm contributors. All rights reserved.
"""Stable Diffusion as a frozen backbone that yields cross-attention maps."""
from contextlib import contextmanager
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils import load_sd_components
from mmppm.utils.errors import UserError
from ..utils import aggregate_layer_maps
from .attn_processors import AttentionStore, CrossAttnMapProcessor
from .backbone_args import (DTYPES, check_backbone_arguments, compile_unet,
                            resolve_layers)
from .latent_mixin import LatentMixin
from .query_cache_mixin import QueryCacheMixin
from .sd_families import pooled_dim, sd_family, sdxl_time_ids
from .text_prompts import empty_text_context


@MODELS.register_module()
class SDCrossAttnBackbone(LatentMixin, QueryCacheMixin, BaseModule):
    """Frozen Stable Diffusion returning pseudo-prompt cross-attention maps.

    The VAE, UNet and scheduler are loaded with diffusers ``from_pretrained``
    and kept frozen in eval mode *outside* the module tree: they are moved by
    ``.to()``/``.cuda()`` with the backbone, but are not parameters, so they
    never enter ``state_dict``, checkpoints, optimisers or DDP.

    A forward takes noisy latents and pseudo-prompt tokens and returns

    - ``layer_maps``: per-layer maps ``{name: [B, T, h_l, w_l]}``
      (paper Eq. 2),
    - ``maps``: their bilinear upsampling to ``map_size`` averaged over the
      layers (Eq. 3), ``[B, T, H, W]``,
    - ``dm_pred``: the UNet's prediction ``[B, 4, h, w]`` (the noise for an
      epsilon model, v for a v-prediction one; the diffusion loss, Eq. 1,
      compares it with the target :meth:`add_noise` returns).

    Args:
        pretrained (str): Hub id or local diffusers folder. Defaults to
            ``'runwayml/stable-diffusion-v1-5'``.
        revision (str, optional): Hub revision. Defaults to None.
        variant (str, optional): Weight variant (``'fp16'``). Defaults to None.
        torch_dtype (str): SD weight dtype, ``'float32'``, ``'float16'`` or
            ``'bfloat16'``. Defaults to ``'float32'``.
        timestep (int): Diffusion timestep t. Defaults to 10.
        input_size (tuple[int, int]): ``(w, h)`` of the image fed to SD (the
            crop is resized to it). Defaults to ``(512, 512)``.
        layers (Sequence[str], optional): Names of the cross-attention layers
            whose maps are used, as in ``unet.attn_processors`` (the
            ``.processor`` suffix may be left out). Defaults to None: every
            ``attn2`` layer.
        map_reduction (str): Head reduction, see
            :func:`mmppm.models.utils.cross_attn_map`. Defaults to
            ``'head_mean'``.
        context_layout (str): ``'prompt'``: the context is the prompt tokens
            alone (default; the paper's ``P`` in R^{1x1xc}).
            ``'empty_text'``: the tokens follow the CLIP
            embedding of the empty prompt (needs ``text_encoder`` and
            ``tokenizer`` in ``pretrained``; used once, then dropped).
        one_token_shortcut (bool): With a one-token context compute the
            attention output as ``to_out(to_v(P))``. Defaults to True.
        capture_all_layers (bool): Install capture processors on every
            ``attn2`` layer, not only those in ``layers`` (for analysis).
            Defaults to False.
        gradient_checkpointing (bool): Checkpoint UNet blocks to save memory
            during prompt optimisation. Defaults to False.
        components (dict, optional): ``unet``, ``vae`` and ``scheduler``
            already built (e.g. on the meta device by
            :func:`mmppm.utils.random_sd.build_random_sd_parts`, to
            count FLOPs); ``pretrained`` then only names them. Defaults to None
            (load ``pretrained``).
        compile_cfg (dict, optional): Keyword arguments of ``torch.compile``
            for the UNet's forward, e.g. ``dict(dynamic=True)`` (episodes
            differ in batch size). None (default) runs eagerly. The first
            call compiles (minutes), so it pays only over many episodes;
            see docs/benchmark.md.
        init_cfg (dict, optional): Unused; SD weights come from
            ``pretrained``.
        what (str): Its config path, named in errors (set by
            :func:`~mmppm.models.builder.build_component`). Defaults to
            ``'model.backbone'``.
    """

    def __init__(self,
                 pretrained: str = 'runwayml/stable-diffusion-v1-5',
                 revision: Optional[str] = None,
                 variant: Optional[str] = None,
                 torch_dtype: str = 'float32',
                 timestep: int = 10,
                 input_size: Tuple[int, int] = (512, 512),
                 layers: Optional[Sequence[str]] = None,
                 map_reduction: str = 'head_mean',
                 context_layout: str = 'prompt',
                 one_token_shortcut: bool = True,
                 capture_all_layers: bool = False,
                 gradient_checkpointing: bool = False,
                 compile_cfg: Optional[dict] = None,
                 components: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 what: str = 'model.backbone') -> None:
        super().__init__(init_cfg=init_cfg)
        check_backbone_arguments(what, pretrained, torch_dtype, timestep,
                                 input_size, map_reduction, context_layout)
        self.pretrained = pretrained
        self.timestep = int(timestep)
        self.input_size = tuple(input_size)
        self.context_layout = context_layout

        if components is not None:  # built in memory (analysis tools)
            parts = dict(components)
        else:
            parts = load_sd_components(
                pretrained,
                revision=revision,
                variant=variant,
                torch_dtype=DTYPES[torch_dtype],
                with_text_encoder=context_layout == 'empty_text')
        self.scheduler = parts['scheduler']
        self.family = sd_family(parts['unet'].config, parts['vae'].config,
                                self.scheduler.config, repr(pretrained))
        if not 0 <= self.timestep < self.scheduler.config.num_train_timesteps:
            raise UserError(
                f'{what}.timestep={timestep} is outside the scheduler range '
                f'[0, {self.scheduler.config.num_train_timesteps})')
        # Frozen parts live outside the module tree (see class docstring).
        self._frozen: Dict[str, torch.nn.Module] = dict(
            unet=parts['unet'], vae=parts['vae'])
        for module in self._frozen.values():
            module.requires_grad_(False)
            module.eval()
        if gradient_checkpointing:
            self.unet.enable_gradient_checkpointing()

        self.empty_text_embedding: Optional[Tensor] = None
        pooled = None
        if context_layout == 'empty_text':
            self.empty_text_embedding, pooled = empty_text_context(
                parts, self.family)  # [1, 77, c], SDXL: [1, P]
        # SDXL's added conditions (pooled text embedding, time ids): the
        # empty prompt's with the 'empty_text' layout, else zeros
        self.added_cond: Optional[Dict[str, Tensor]] = None
        dim = pooled_dim(self.unet.config)
        if dim is not None:
            self.added_cond = dict(
                text_embeds=pooled if pooled is not None else torch.zeros(
                    1, dim),
                time_ids=sdxl_time_ids(self.input_size[1], self.input_size[0]))

        all_attn2 = [
            n for n in self.unet.attn_processors
            if n.endswith('attn2.processor')
        ]
        self.layer_names = resolve_layers(layers, all_attn2)
        self.store = AttentionStore(map_reduction)
        self._original_processors = dict(self.unet.attn_processors)
        processors = dict(self._original_processors)
        for name in all_attn2:
            capture = capture_all_layers or name in self.layer_names
            processors[name] = CrossAttnMapProcessor(
                name, self.store if capture else None, one_token_shortcut)
        self.unet.set_attn_processor(processors)
        self._compiled_forward = compile_unet(self.unet, compile_cfg)

    @contextmanager
    def eager_unet(self):
        """Run the UNet eagerly inside this block even with ``compile_cfg``
        (e.g. while other attention processors are installed)."""
        compiled, self._compiled_forward = self._compiled_forward, None
        try:
            yield
        finally:
            self._compiled_forward = compiled

    def _run_unet(self, noisy_latents: Tensor, context: Tensor) -> Tensor:
        """The UNet's prediction (``dm_pred``) at ``self.timestep`` (compiled if
        ``compile_cfg`` was given)."""
        t = torch.full((noisy_latents.shape[0], ),
                       self.timestep,
                       dtype=torch.long,
                       device=noisy_latents.device)
        forward = self._compiled_forward or self.unet
        extra = {}
        if self.added_cond is not None:  # SDXL
            extra['added_cond_kwargs'] = {
                k: v.to(noisy_latents).expand(noisy_latents.shape[0], -1)
                for k, v in self.added_cond.items()
            }
        return forward(
            noisy_latents, t, encoder_hidden_states=context, **extra).sample

    # ------------------------------------------------------------------ parts
    @property
    def unet(self):
        return self._frozen['unet']

    @property
    def vae(self):
        return self._frozen['vae']

    @property
    def cross_attention_dim(self) -> int:
        """Channels c of a pseudo-prompt token."""
        return int(self.unet.config.cross_attention_dim)

    @property
    def attention_maps(self) -> Dict[str, Tensor]:
        """Maps of the last forward, ``{layer name: [B, T, h_l, w_l]}``."""
        return self.store.maps

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for module in self._frozen.values():
            module._apply(fn, *args, **kwargs)
        if self.empty_text_embedding is not None:
            self.empty_text_embedding = fn(self.empty_text_embedding)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for module in self._frozen.values():
            module.eval()  # SD stays in eval mode
        return self

    def restore_processors(self) -> None:
        """Put back the attention processors the UNet was loaded with."""
        self.unet.set_attn_processor(dict(self._original_processors))

    def _begin_forward(self,
                       noisy_latents: Tensor,
                       tokens: slice,
                       keep_queries: bool = False) -> Tensor:
        """Reset the map store for a UNet forward; returns the UNet's
        input."""
        self.store.reset(
            noisy_latents.shape[-2:], tokens, keep_queries=keep_queries)
        return noisy_latents

    def build_context(self, prompts: Tensor) -> Tuple[Tensor, slice]:
        """UNet context for prompt tokens, and the slice of those tokens.

        Args:
            prompts (Tensor): ``[B, T, c]``.

        Returns:
            tuple[Tensor, slice]: ``encoder_hidden_states`` and the token
            slice whose maps are recorded.
        """
        if prompts.ndim != 3 or prompts.shape[-1] != self.cross_attention_dim:
            raise UserError(
                f'prompts must be [B, T, {self.cross_attention_dim}], got '
                f'{tuple(prompts.shape)}')
        if self.empty_text_embedding is None:
            return prompts, slice(None)
        empty = self.empty_text_embedding.to(prompts)
        empty = empty.expand(prompts.shape[0], -1, -1)
        n = empty.shape[1]
        return torch.cat([empty, prompts], dim=1), slice(n, None)

    def forward(
        self,
        noisy_latents: Tensor,
        prompts: Tensor,
        map_size: Optional[Sequence[int]] = None
    ) -> Dict[str, Union[Tensor, Dict[str, Tensor]]]:
        """Run the UNet with prompt tokens and collect their maps.

        Args:
            noisy_latents (Tensor): ``Z_t``, ``[B, 4, h, w]``.
            prompts (Tensor): Pseudo-prompt tokens ``[B, T, c]``.
            map_size (Sequence[int], optional): ``(H, W)`` of ``maps``.
                Defaults to the SD input size.

        Returns:
            dict: ``maps`` ``[B, T, H, W]``, ``layer_maps`` (dict of
            ``[B, T, h_l, w_l]``) and ``dm_pred`` ``[B, 4, h, w]``.
        """
        context, tokens = self.build_context(prompts)
        noisy_latents = self._begin_forward(noisy_latents, tokens)
        dm_pred = self._run_unet(noisy_latents, context)
        layer_maps = {n: self.store.maps[n] for n in self.layer_names}
        if map_size is None:
            map_size = self.input_size[::-1]
        maps = aggregate_layer_maps(layer_maps, map_size)
        return dict(maps=maps, layer_maps=layer_maps, dm_pred=dm_pred)

    # ------------------------------------------------- cached-feature path
