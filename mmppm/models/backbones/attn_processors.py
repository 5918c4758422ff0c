# Copyright (c) mmppm contributors. All rights reserved.
"""diffusers attention processors that record cross-attention maps.

A processor is installed per ``attn2`` layer with ``unet.set_attn_processor``
(never by patching ``forward``). It writes the layer's token maps into an
:class:`AttentionStore` owned by the backbone instance.
"""
from typing import Dict, Optional, Tuple

import torch.nn.functional as F
from torch import Tensor

from ..utils import cross_attn_map, infer_map_hw


class AttentionStore:
    """Per-forward storage of cross-attention maps, keyed by layer name.

    Args:
        reduction (str): Head reduction passed to
            :func:`mmppm.models.utils.cross_attn_map`.
    """

    def __init__(self, reduction: str = 'head_mean') -> None:
        self.reduction = reduction
        self.maps: Dict[str, Tensor] = {}
        self.queries: Dict[str, Tensor] = {}
        self.keep_queries = False
        self.latent_hw: Optional[Tuple[int, int]] = None
        self.token_slice = slice(None)

    def reset(self,
              latent_hw: Tuple[int, int],
              token_slice: slice,
              keep_queries: bool = False) -> None:
        """Clear the maps (and queries) before a UNet forward.

        Args:
            latent_hw (tuple[int, int]): ``(h, w)`` of the UNet input.
            token_slice (slice): Context tokens whose maps are recorded.
            keep_queries (bool): Also keep each layer's ``to_q`` output.
        """
        self.maps = {}
        self.queries = {}
        self.keep_queries = keep_queries
        self.latent_hw = tuple(latent_hw)
        self.token_slice = token_slice


class CrossAttnMapProcessor:
    """Cross-attention processor with map capture and a one-token shortcut.

    The output is the standard attention output. With a single context token
    the softmax over keys is identically 1, so the output is
    ``to_out(to_v(token))`` broadcast over the pixels: no ``q . k`` product is
    needed for it (``one_token_shortcut``). The map (paper Eq. 2) needs only
    ``q . k`` and is computed by :func:`cross_attn_map`.

    Args:
        name (str): Layer name as in ``unet.attn_processors``.
        store (AttentionStore | None): Where maps go; None records nothing.
        one_token_shortcut (bool): Use the shortcut when the context has one
            token and there is no attention mask. Defaults to True.
    """

    def __init__(self,
                 name: str,
                 store: Optional[AttentionStore] = None,
                 one_token_shortcut: bool = True) -> None:
        self.name = name
        self.store = store
        self.one_token_shortcut = one_token_shortcut

    def __call__(self,
                 attn,
                 hidden_states: Tensor,
                 encoder_hidden_states: Optional[Tensor] = None,
                 attention_mask: Optional[Tensor] = None,
                 temb: Optional[Tensor] = None,
                 *args,
                 **kwargs) -> Tensor:
        if (encoder_hidden_states is None or hidden_states.ndim != 3
                or attn.spatial_norm is not None
                or attn.group_norm is not None):
            raise NotImplementedError(
                f'{type(self).__name__} on layer {self.name!r} supports '
                'cross-attention on [B, N, C] tokens only (the attn2 layers '
                'of a UNet2DConditionModel).')
        residual = hidden_states
        batch, num_pixels, _ = hidden_states.shape
        context = normed_context(attn, encoder_hidden_states)

        query = attn.to_q(hidden_states)  # [B, N, inner]
        key = attn.to_k(context)  # [B, T, inner]
        store = self.store
        if store is not None:
            h, w = infer_map_hw(num_pixels, store.latent_hw)
            if store.keep_queries:
                store.queries[self.name] = query
            maps = cross_attn_map(query, key[:, store.token_slice], attn.heads,
                                  store.reduction)  # [B, T', N]
            store.maps[self.name] = maps.reshape(batch, maps.shape[1], h, w)

        value = attn.to_v(context)  # [B, T, inner]
        if (self.one_token_shortcut and context.shape[1] == 1
                and attention_mask is None):
            out = value.expand(batch, num_pixels, value.shape[-1])
        else:
            out = self.attend(attn, query, key, value, attention_mask)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor

    def attend(self, attn, query: Tensor, key: Tensor, value: Tensor,
               attention_mask: Optional[Tensor]) -> Tensor:
        """Multi-head attention output ``[B, N, inner]`` of the general
        path (SDPA); subclasses may compute it differently."""
        return sdpa(attn, query, key, value, attention_mask)


def normed_context(attn, context: Tensor) -> Tensor:
    """The context as the layer's ``to_k`` / ``to_v`` see it."""
    if attn.norm_cross:
        return attn.norm_encoder_hidden_states(context)
    return context


def sdpa(attn, query: Tensor, key: Tensor, value: Tensor,
         attention_mask: Optional[Tensor]) -> Tensor:
    """Multi-head scaled dot-product attention, as ``AttnProcessor2_0``."""
    batch = query.shape[0]
    if attention_mask is not None:
        attention_mask = attn.prepare_attention_mask(attention_mask,
                                                     key.shape[1], batch)
        attention_mask = attention_mask.view(batch, attn.heads, -1,
                                             attention_mask.shape[-1])
    d_head = key.shape[-1] // attn.heads

    def split(x: Tensor) -> Tensor:
        return x.view(batch, -1, attn.heads, d_head).transpose(1, 2)

    out = F.scaled_dot_product_attention(
        split(query),
        split(key),
        split(value),
        attn_mask=attention_mask,
        dropout_p=0.0,
        is_causal=False,
        scale=attn.scale)
    return out.transpose(1, 2).reshape(batch, -1, attn.heads * d_head)
