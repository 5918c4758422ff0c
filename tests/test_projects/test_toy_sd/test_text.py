# Copyright (c) mmppm contributors. All rights reserved.
import pytest
import torch

from mmppm.datasets.toy_world import all_words
from mmppm.models.backbones.text_prompts import text_embeddings
from projects.toy_sd.models import (build_text_encoder, build_tokenizer,
                                    encode_text)


@pytest.fixture(scope='module')
def tokenizer():
    return build_tokenizer(all_words(), max_length=24)


def test_every_world_word_is_one_token(tokenizer):
    for word in all_words():
        ids = tokenizer(word).input_ids
        assert len(ids) == 3  # BOS, the word, EOS
        assert tokenizer.convert_ids_to_tokens(ids[1]) == word + '</w>'


def test_tokenizer_round_trips_through_from_pretrained(tokenizer, tmp_path):
    from transformers import CLIPTokenizer
    tokenizer.save_pretrained(tmp_path)
    loaded = CLIPTokenizer.from_pretrained(tmp_path)
    caption = 'darkazurering brightreddisc'
    assert loaded(caption).input_ids == tokenizer(caption).input_ids
    ids = loaded(caption, padding='max_length', max_length=24).input_ids
    assert len(ids) == 24 and ids[3:] == [1] * 21  # EOS-padded as CLIP
    # CLIP's normalisation: case does not matter; other words split up
    assert loaded('DarkAzureRing').input_ids == loaded(
        'darkazurering').input_ids
    assert len(loaded('azure').input_ids) > 3 or loaded(
        'azure').input_ids[1] != loaded('darkazurering').input_ids[1]


def test_non_letter_words_are_refused():
    with pytest.raises(ValueError, match='lower-case letters'):
        build_tokenizer(['red-ring'], 8)


def test_text_encoder_gives_context_of_cross_attention_width(tokenizer):
    torch.manual_seed(0)
    encoder = build_text_encoder(len(tokenizer), 16, 24)
    states = encode_text(tokenizer, encoder, ['darkazurering', ''])
    assert tuple(states.shape) == (2, 24, 16)
    # a word's prompt token is its state at the head of a caption (causal
    # encoder: later words do not change it)
    token = text_embeddings(tokenizer, encoder, ['darkazurering'])
    longer = encode_text(tokenizer, encoder, ['darkazurering brightreddisc'])
    torch.testing.assert_close(token[0], longer[0, 1].detach())
    with pytest.raises(ValueError, match='no tokens'):
        text_embeddings(tokenizer, encoder, [''])
