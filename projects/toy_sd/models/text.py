# Copyright (c) mmppm contributors. All rights reserved.
"""The toy SD's text side: a CLIP tokenizer of the world's words and a
small CLIP text encoder, both loadable by ``transformers`` / ``diffusers``.

The tokenizer is a real ``CLIPTokenizer`` (byte-pair encoding, CLIP's
normalisation): its merges are learnt from the word list so that every
world word is one token (``'darkazurering</w>'``), and anything else falls
apart into pieces as in CLIP. The encoder is a ``CLIPTextModel`` whose
hidden size is the UNet's ``cross_attention_dim``; it is trained with the
UNet, as the LDM paper trained its text transformer
(projects/toy_sd/README.md).
"""
import json
from typing import Dict, Sequence

from torch import Tensor

from mmppm.utils.errors import UserError

BOS, EOS = '<|startoftext|>', '<|endoftext|>'


def build_tokenizer(words: Sequence[str], max_length: int):
    """A ``CLIPTokenizer`` that keeps each of ``words`` whole.

    Args:
        words (Sequence[str]): Lower-case letter-only words.
        max_length (int): ``model_max_length`` (BOS + words + EOS, padded
            with EOS as CLIP's).

    Returns:
        transformers.CLIPTokenizer
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer
    bad = [w for w in words if not (w.isalpha() and w.islower())]
    if bad:
        raise UserError(f'toy words must be lower-case letters, got {bad}')
    bpe = Tokenizer(models.BPE(end_of_word_suffix='</w>'))
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    bpe.train_from_iterator(
        list(words),
        trainers.BpeTrainer(
            vocab_size=10**6,
            min_frequency=1,
            end_of_word_suffix='</w>',
            show_progress=False))
    learnt = bpe.get_vocab()
    vocab: Dict[str, int] = {BOS: 0, EOS: 1}
    for piece in sorted(learnt, key=learnt.get):
        vocab.setdefault(piece, len(vocab))
    merges = [tuple(m) for m in json.loads(bpe.to_str())['model']['merges']]
    tokenizer = CLIPTokenizer(
        vocab=vocab, merges=merges, model_max_length=int(max_length))
    split = [w for w in words if len(tokenizer(w).input_ids) != 3]
    if split:  # BPE learnt on the words themselves always keeps them whole
        raise RuntimeError(f'words not kept whole by the tokenizer: {split}')
    return tokenizer


def build_text_encoder(vocab_size: int,
                       hidden_size: int,
                       max_length: int,
                       num_hidden_layers: int = 1,
                       num_attention_heads: int = 4,
                       intermediate_size: int = None):
    """A ``CLIPTextModel`` (random weights) for the toy tokenizer."""
    from transformers import CLIPTextConfig, CLIPTextModel
    cfg = CLIPTextConfig(
        vocab_size=int(vocab_size),
        hidden_size=int(hidden_size),
        intermediate_size=int(intermediate_size or 2 * hidden_size),
        num_hidden_layers=int(num_hidden_layers),
        num_attention_heads=int(num_attention_heads),
        max_position_embeddings=int(max_length),
        projection_dim=int(hidden_size),
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1)
    return CLIPTextModel(cfg)


def encode_text(tokenizer, text_encoder, texts: Sequence[str]) -> Tensor:
    """``last_hidden_state`` ``[B, max_length, c]`` of the texts, as the SD
    pipeline encodes prompts (padded to ``model_max_length``)."""
    ids = tokenizer(
        list(texts),
        padding='max_length',
        max_length=tokenizer.model_max_length,
        truncation=True,
        return_tensors='pt').input_ids
    device = next(text_encoder.parameters()).device
    return text_encoder(ids.to(device))[0]
