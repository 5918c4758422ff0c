# Copyright (c) mmppm contributors. All rights reserved.
"""Context tokens from text: a keypoint's name as a pseudo prompt."""
from typing import Sequence

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
        ids = tokenizer(str(text),
                        truncation=True,
                        max_length=tokenizer.model_max_length).input_ids
        if len(ids) < 3:
            raise UserError(f'{text!r} has no tokens to embed (an empty '
                             'name?)')
        states = text_encoder(torch.tensor([ids], device=device))[0]
        out.append(states[0, 1:len(ids) - 1].mean(0))
    return torch.stack(out)
