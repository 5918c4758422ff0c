# Copyright (c) mmppm contributors. All rights reserved.
"""Stable Diffusion as a frozen backbone that yields cross-attention maps."""
import json
import os.path as osp
from contextlib import contextmanager
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils import load_sd_components, load_text_components
from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int
from mmppm.utils.value_checks import (non_negative_int, one_of,
                                      precision_dtype, require)
from ..utils import (MAP_REDUCTIONS, aggregate_layer_maps, diffusion_target,
                     logit_sensitivity)
from .attn_processors import AttentionStore, CrossAttnMapProcessor
from .sd_families import pooled_dim, sd_family, sdxl_time_ids
from .text_prompts import empty_text_context, text_embeddings


class LayerQueries(NamedTuple):
    """Cached queries of the captured layers (:meth:`layer_queries`).

    Attributes:
        queries (dict[str, Tensor]): ``{layer: [B, N_l, inner_l]}``.
        latent_hw (tuple[int, int]): ``(h, w)`` of the UNet input they were
            computed from (gives each layer's map shape).
    """
    queries: Dict[str, Tensor]
    latent_hw: Tuple[int, int]


CONTEXT_LAYOUTS = ('prompt', 'empty_text')

_DTYPES = dict(
    float32=torch.float32, float16=torch.float16, bfloat16=torch.bfloat16)

_HALF = 'needs a CUDA GPU (this machine has none)'


def _scheduler_timesteps(pretrained) -> Optional[int]:
    """``num_train_timesteps`` of a local SD folder's scheduler, read from
    ``scheduler/scheduler_config.json`` before any weights load (None for a
    hub id, or a folder without that file: checked once it loads)."""
    if not isinstance(pretrained, str):
        return None
    path = osp.join(
        osp.expanduser(pretrained), 'scheduler', 'scheduler_config.json')
    try:
        with open(path, encoding='utf-8') as f:
            steps = json.load(f).get('num_train_timesteps')
    except (OSError, ValueError, AttributeError):
        return None
    return steps if is_int(steps) else None


def check_backbone_arguments(what: str, pretrained, torch_dtype: str, timestep,
                             input_size, map_reduction: str,
                             context_layout: str) -> None:
    """The backbone's arguments, checked before any weights load, each in
    the one line of :func:`mmppm.utils.value_checks.require`."""
    require(map_reduction, one_of(*MAP_REDUCTIONS), f'{what}.map_reduction',
            f'one of {MAP_REDUCTIONS}', 'head_mean')
    require(context_layout, one_of(*CONTEXT_LAYOUTS), f'{what}.context_layout',
            f'one of {CONTEXT_LAYOUTS}', 'prompt')
    require(torch_dtype, one_of(*_DTYPES), f'{what}.torch_dtype',
            f'one of {sorted(_DTYPES)}', 'float32')
    require(torch_dtype, precision_dtype, f'{what}.torch_dtype',
            f"'float32' (float16 / bfloat16 {_HALF})", 'float32')
    steps = _scheduler_timesteps(pretrained)
    require(timestep, non_negative_int, f'{what}.timestep',
            "an integer >= 0 (below the scheduler's num_train_timesteps)",
            '10')
    if steps is not None:
        require(
            timestep, lambda t: t < steps, f'{what}.timestep',
            f'an integer in [0, {steps}) (the scheduler of {pretrained} '
            f'has {steps} timesteps)', '10')
    require(
        input_size, lambda v: isinstance(v, (list, tuple)) and len(
            v) == 2 and all(is_int(x) and x > 0 and x % 8 == 0 for x in v),
        f'{what}.input_size', 'two integers >= 8, multiples of 8 (width, '
        "height: the VAE's and UNet's downsampling)", '"(512,512)"')


@MODELS.register_module()
class SDCrossAttnBackbone(BaseModule):
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
            :func:`mmppm.models.utils.random_sd.build_random_sd_parts`, to
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
                torch_dtype=_DTYPES[torch_dtype],
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
        self.layer_names = self._resolve_layers(layers, all_attn2)
        self.store = AttentionStore(map_reduction)
        self._original_processors = dict(self.unet.attn_processors)
        processors = dict(self._original_processors)
        for name in all_attn2:
            capture = capture_all_layers or name in self.layer_names
            processors[name] = self._map_processor(
                name, self.store if capture else None, one_token_shortcut)
        self.unet.set_attn_processor(processors)
        self._compiled_forward = self._compile(compile_cfg)

    def _map_processor(self, name: str, store: Optional[AttentionStore],
                       one_token_shortcut: bool) -> CrossAttnMapProcessor:
        """The processor installed on an ``attn2`` layer."""
        return CrossAttnMapProcessor(name, store, one_token_shortcut)

    def _compile(self, compile_cfg: Optional[dict]):
        """``torch.compile`` of the UNet's forward (a function, so it is
        not registered as a submodule and never enters checkpoints)."""
        if compile_cfg is None:
            return None
        if not isinstance(compile_cfg, dict):
            raise TypeError('compile_cfg must be None or a dict of '
                            'torch.compile keyword arguments, got '
                            f'{compile_cfg!r}')
        try:
            return torch.compile(self.unet.forward, **compile_cfg)
        except (TypeError, RuntimeError) as err:
            raise UserError(f'compile_cfg={compile_cfg!r} is not accepted '
                            f'by torch.compile: {err}') from err

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

    @staticmethod
    def _resolve_layers(layers, all_attn2):
        if layers is None:
            return list(all_attn2)
        names = []
        for name in layers:
            full = name if name.endswith('.processor') else name + '.processor'
            if full not in all_attn2:
                valid = '\n  '.join(n[:-len('.processor')] for n in all_attn2)
                raise UserError(
                    f'Unknown cross-attention layer {name!r}. Valid names '
                    f'(attn2 layers of this UNet):\n  {valid}')
            names.append(full)
        if not names:
            raise UserError('`layers` is empty: choose at least one attn2 '
                            'layer (or None for all)')
        return names

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
    def encode(self, images: Tensor, data_samples=None) -> Tensor:
        """VAE latents of images, scaled by the VAE scaling factor.

        Args:
            images (Tensor): RGB images in [-1, 1], ``[B, 3, H, W]``; resized
                to ``input_size`` if needed.
            data_samples (list, optional): One sample per image; not read
                here (a subclass planting known codes reads their keypoints,
                docs/method.md, "Fit diagnostics").

        Returns:
            Tensor: ``[B, 4, h, w]`` latents (the distribution's mean).
        """
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

    def _begin_forward(self,
                       noisy_latents: Tensor,
                       tokens: slice,
                       keep_queries: bool = False) -> Tensor:
        """Reset the map store for a UNet forward; returns the UNet's
        input (a subclass planting known codes strips them here)."""
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
    @torch.no_grad()
    def layer_queries(self, noisy_latents: Tensor,
                      context: Tensor) -> LayerQueries:
        """Queries ``q_l`` of the chosen layers for a fixed context.

        With a one-token context the prompt reaches the UNet only through a
        spatially constant ``to_out(to_v(P))`` per layer, and the map of layer
        l is ``sigmoid(q_l . to_k_l(P) / (heads * sqrt(d)))``. Computing
        ``q_l`` once per image with a neutral context turns every later map
        into matrix products (:func:`mmppm.models.map_modes.
        maps_from_queries`), ignoring the prompt's (small) effect on the
        features themselves.

        Args:
            noisy_latents (Tensor): ``[B, C, h, w]``.
            context (Tensor): ``[B, 1, c]`` neutral context tokens.

        Returns:
            LayerQueries: The queries ``{layer: [B, N_l, inner_l]}`` and the
            latent size.
        """
        context, tokens = self.build_context(context)
        latents = self._begin_forward(noisy_latents, tokens, keep_queries=True)
        latent_hw = tuple(latents.shape[-2:])
        try:
            self._run_unet(latents, context)
            return LayerQueries(
                {n: self.store.queries[n]
                 for n in self.layer_names}, latent_hw)
        finally:
            self.store.reset(latent_hw, tokens)

    @torch.no_grad()
    def logit_sensitivity(self, cached: LayerQueries) -> float:
        """Mean over the captured layers of
        :func:`mmppm.models.utils.logit_sensitivity` (the spread of map
        logits per unit of context token) for cached queries."""
        values = []
        for name, q in cached.queries.items():
            attn = self.unet.get_submodule(name[:-len('.processor')])
            values.append(logit_sensitivity(q, attn.to_k.weight, attn.heads))
        return float(torch.stack(values).mean())
