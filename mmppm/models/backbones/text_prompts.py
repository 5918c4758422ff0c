# Copyright (c) mmppm contributors. All rights reserved.
"""Context tokens from text: a keypoint's name as a pseudo prompt, and the
empty prompt's context (``context_layout='empty_text'``)."""
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmppm.utils.errors import UserError


@torch.no_grad()
def text_embeddings(tokenizer, text_encoder, texts: Sequence[str]) -> Tensor:
    """One context token ``[N, c]`` per text.

    Each text is encoded alone (``<bos> text <eos>``, as the SD pipeline
    encodes a prompt) and its token is the mean of the encoder's last
    hidden states over the text's own tokens (between BOS and EOS). For a
    one-token word that is the state the word has at the head of a caption.

    Args:
        tokenizer: A ``CLIPTokenizer``.
        text_encoder: A ``CLIPTextModel``.
        texts (Sequence[str]): Non-empty texts (e.g. keypoint names).

    Returns:
        Tensor: ``[N, c]`` on the encoder's device.
    """
    device = next(text_encoder.parameters()).device
    out = []
    for text in texts:
        ids = tokenizer(
            str(text), truncation=True,
            max_length=tokenizer.model_max_length).input_ids
        if len(ids) < 3:
            raise UserError(f'{text!r} has no tokens to embed (an empty '
                            'name?)')
        states = text_encoder(torch.tensor([ids], device=device))[0]
        out.append(states[0, 1:len(ids) - 1].mean(0))
    return torch.stack(out)


@torch.no_grad()
def empty_text_context(parts: dict,
                       family: str) -> Tuple[Tensor, Optional[Tensor]]:
    """The empty prompt's context ``[1, 77, c]`` as the model's own
    pipeline encodes it, and (SDXL) its pooled embedding ``[1, P]``: SDXL
    concatenates the penultimate states of both text encoders and pools
    with the second (as ``StableDiffusionXLPipeline``).

    Args:
        parts (dict): The SD folder's ``text_encoder`` and ``tokenizer``
            (SDXL: also ``text_encoder_2`` and ``tokenizer_2``).
        family (str): :func:`.sd_families.sd_family` of the model.
    """

    def ids(tokenizer):
        return tokenizer([''],
                         padding='max_length',
                         max_length=tokenizer.model_max_length,
                         truncation=True,
                         return_tensors='pt').input_ids

    if family != 'sdxl':
        return parts['text_encoder'](ids(parts['tokenizer']))[0], None
    states, pooled = [], None
    for enc, tok in (('text_encoder', 'tokenizer'), ('text_encoder_2',
                                                     'tokenizer_2')):
        out = parts[enc](ids(parts[tok]), output_hidden_states=True)
        states.append(out.hidden_states[-2])
        pooled = out[0]
    return torch.cat(states, dim=-1), pooled
