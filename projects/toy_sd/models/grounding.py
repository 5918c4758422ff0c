# Copyright (c) mmppm contributors. All rights reserved.
"""The grounding term of the toy SD's training (projects/toy_sd/README.md).

Real SD learnt to route pixels to the words that describe them from
billions of captioned images; a miniature trained for an hour on a CPU does
not (its UNet can denoise the toy colours from the noisy latent alone). The
generator knows where every caption word's blobs are, so the training adds
a term on the cross-attention of each ``attn2`` layer: for each caption
word, its head-mean logit map (the argument of the sigmoid of paper Eq. 2,
:func:`mmppm.models.utils.cross_attn_logits`) is pulled toward its blobs'
mask by

- a cross-entropy of the softmax over pixels (where the word is, relative
  to the rest of the image: the routing a softmax over tokens learns), and
- a balanced binary cross-entropy of the sigmoid map (how high: about 1 on
  the blob, 0 elsewhere). A softmax over the caption never sees a per-pixel
  offset common to all tokens, but PPM's sigmoid map of a single token
  does; this term gives the map an absolute level.

Everything here is a pure function but :class:`GroundingAttnProcessor`,
the training-time processor that records the logits.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmppm.models.backbones.attn_processors import normed_context, sdpa
from mmppm.models.utils import cross_attn_logits, infer_map_hw


def blob_masks(blobs: Sequence[Tensor], hw: Tuple[int, int],
               crop_size: int) -> Tensor:
    """Soft masks of each word's blobs on a ``(h, w)`` grid.

    A cell counts fully where its centre lies within the blob radius (at
    least half a cell) minus half a cell, not at all beyond plus half a
    cell, linearly between (an anti-aliased disc).

    Args:
        blobs (Sequence[Tensor]): Per word ``[n, 3]`` ``(x, y, r)`` in crop
            pixels.
        hw (tuple[int, int]): The grid.
        crop_size (int): Crop side in pixels (the grid spans it).

    Returns:
        Tensor: ``[W, h, w]`` in [0, 1].
    """
    h, w = hw
    cell = crop_size / w
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) * crop_size / h
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) * cell
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')  # [h, w]
    masks = []
    for b in blobs:
        b = torch.as_tensor(b, dtype=torch.float32).reshape(-1, 3)
        d = torch.hypot(grid_x[None] - b[:, 0, None, None],
                        grid_y[None] - b[:, 1, None, None])  # [n, h, w]
        r = b[:, 2, None, None].clamp(min=0.5 * cell)
        m = ((r - d) / cell + 0.5).clamp(0, 1).amax(0)
        masks.append(m)
    if not masks:
        return torch.zeros(0, h, w)
    return torch.stack(masks)


def softmax_ce(logits: Tensor, masks: Tensor) -> Tensor:
    """Cross-entropy of ``softmax_pixels(logits)`` toward the normalised
    masks, per word: ``[M, N] x [M, N] -> [M]``."""
    target = masks / masks.sum(-1, keepdim=True).clamp(min=1e-6)
    return -(target * F.log_softmax(logits.float(), dim=-1)).sum(-1)


def balanced_bce(logits: Tensor, masks: Tensor) -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` toward the masks, the
    blob's pixels and the rest weighted equally, per word ``[M]``."""
    logits = logits.float()
    pos = (masks * F.softplus(-logits)).sum(-1) / masks.sum(-1).clamp(min=1e-6)
    neg = ((1 - masks) *
           F.softplus(logits)).sum(-1) / (1 - masks).sum(-1).clamp(min=1e-6)
    return 0.5 * (pos + neg)


def grounding_losses(layer_logits: Dict[str, Tensor], sample_ids: Tensor,
                     token_ids: Tensor, blobs: List[Tensor],
                     latent_hw: Tuple[int, int],
                     crop_size: int) -> Dict[str, Tensor]:
    """Both grounding terms, averaged over words and layers.

    Args:
        layer_logits (dict[str, Tensor]): ``{layer: [B, T, N_l]}``.
        sample_ids (Tensor): ``[M]`` sample of each grounded word.
        token_ids (Tensor): ``[M]`` its position in the context.
        blobs (list[Tensor]): ``M`` arrays ``[n, 3]`` of its blobs.
        latent_hw (tuple[int, int]): The UNet input's ``(h, w)``.
        crop_size (int): Image side in pixels.

    Returns:
        dict: ``loss_ground_ce`` and ``loss_ground_bce`` (scalars; zero
        when nothing is grounded).
    """
    if len(sample_ids) == 0:
        zero = next(iter(layer_logits.values())).sum() * 0
        return dict(loss_ground_ce=zero, loss_ground_bce=zero)
    masks_at: Dict[Tuple[int, int], Tensor] = {}
    ce, bce = [], []
    for logits in layer_logits.values():
        hw = infer_map_hw(logits.shape[-1], latent_hw)
        if hw not in masks_at:
            masks_at[hw] = blob_masks(blobs, hw,
                                      crop_size).flatten(1).to(logits.device)
        picked = logits[sample_ids, token_ids]  # [M, N]
        ce.append(softmax_ce(picked, masks_at[hw]).mean())
        bce.append(balanced_bce(picked, masks_at[hw]).mean())
    return dict(
        loss_ground_ce=torch.stack(ce).mean(),
        loss_ground_bce=torch.stack(bce).mean())


class GroundingAttnProcessor:
    """Standard cross-attention (SDPA over the context) that also records
    the head-mean logits of every token, ``[B, T, N]``, into ``store`` under
    its layer name. Installed on the ``attn2`` layers while the toy SD
    trains (with ``unet.set_attn_processor``; the saved model has the
    default processors)."""

    def __init__(self, name: str, store: Dict[str, Tensor]) -> None:
        self.name = name
        self.store = store

    def __call__(self,
                 attn,
                 hidden_states: Tensor,
                 encoder_hidden_states: Optional[Tensor] = None,
                 attention_mask: Optional[Tensor] = None,
                 temb: Optional[Tensor] = None,
                 *args,
                 **kwargs) -> Tensor:
        residual = hidden_states
        context = normed_context(attn, encoder_hidden_states)
        query = attn.to_q(hidden_states)
        key, value = attn.to_k(context), attn.to_v(context)
        self.store[self.name] = cross_attn_logits(query, key, attn.heads)
        out = sdpa(attn, query, key, value, attention_mask)
        out = attn.to_out[1](attn.to_out[0](out))
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor
