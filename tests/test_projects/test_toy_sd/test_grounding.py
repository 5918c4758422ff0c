# Copyright (c) mmppm contributors. All rights reserved.
import math

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from mmppm.models.utils import cross_attn_logits
from projects.toy_sd.models import (GroundingAttnProcessor, balanced_bce,
                                    blob_masks, grounding_losses, softmax_ce)


def test_blob_mask_is_a_disc_on_the_grid():
    # crop 32 px on an 8 x 8 grid (4 px cells); a blob of radius 6 at the
    # centre of cell (2, 5): x = 22, y = 10
    m = blob_masks([torch.tensor([[22., 10., 6.]])], (8, 8), 32)[0]
    assert m[2, 5] == 1 and m[2, 4] == 1 and m[2, 6] == 1 and m[2, 3] == 0
    assert 0 < m[1, 4] < 1  # 5.7 px away: partly inside (anti-aliased)
    assert m[7, 0] == 0
    assert m.shape == (8, 8) and 0 <= m.min() and m.max() <= 1
    # a tiny blob still covers its own cell
    tiny = blob_masks([torch.tensor([[22., 10., 0.1]])], (8, 8), 32)[0]
    assert tiny[2, 5] == 1 and tiny.sum() < 2
    # two blobs of one word: the union
    two = blob_masks([torch.tensor([[2., 2., 2.], [30., 30., 2.]])], (8, 8),
                     32)[0]
    assert two[0, 0] == 1 and two[7, 7] == 1


def test_softmax_ce_is_lowest_for_logits_peaked_on_the_mask():
    mask = torch.zeros(1, 16)
    mask[0, 3] = 1
    peaked = torch.zeros(1, 16)
    peaked[0, 3] = 10
    flat = torch.zeros(1, 16)
    assert softmax_ce(flat, mask).item() == pytest.approx(math.log(16))
    assert softmax_ce(peaked, mask) < 1e-3
    # invariant to a constant: only where the word is, not how high
    torch.testing.assert_close(
        softmax_ce(peaked + 5, mask), softmax_ce(peaked, mask))


def test_balanced_bce_sets_the_absolute_level():
    mask = torch.zeros(1, 16)
    mask[0, 3] = 1
    assert balanced_bce(torch.zeros(1, 16),
                        mask).item() == pytest.approx(math.log(2))
    good = torch.full((1, 16), -8.)
    good[0, 3] = 8
    assert balanced_bce(good, mask) < 1e-3
    # a constant shift is not free, unlike the softmax term
    assert balanced_bce(good + 8, mask).item() == pytest.approx(
        0.5 * math.log(2), rel=1e-3)


def test_grounding_losses_average_layers_and_words():
    logits = {'a': torch.zeros(2, 4, 16), 'b': torch.zeros(2, 4, 4)}
    out = grounding_losses(logits, torch.tensor([0, 1]), torch.tensor([1, 2]),
                           [torch.tensor([[2., 2., 1.]])] * 2, (4, 4), 16)
    # flat logits: CE = log(pixels) per layer, averaged; BCE = log 2
    assert out['loss_ground_ce'].item() == pytest.approx(
        (math.log(16) + math.log(4)) / 2)
    assert out['loss_ground_bce'].item() == pytest.approx(math.log(2))
    none = grounding_losses(logits, torch.zeros(0, dtype=torch.long),
                            torch.zeros(0, dtype=torch.long), [], (4, 4), 16)
    assert none['loss_ground_ce'].item() == 0


def test_processor_output_is_standard_attention_and_records_logits():
    torch.manual_seed(0)
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8)
    x, ctx = torch.randn(2, 9, 16), torch.randn(2, 5, 8)
    attn.set_processor(AttnProcessor2_0())
    ref = attn(x, encoder_hidden_states=ctx)
    store = {}
    attn.set_processor(GroundingAttnProcessor('layer', store))
    out = attn(x, encoder_hidden_states=ctx)
    torch.testing.assert_close(out, ref)
    expected = cross_attn_logits(attn.to_q(x), attn.to_k(ctx), 2)
    torch.testing.assert_close(store['layer'], expected)
    assert tuple(store['layer'].shape) == (2, 5, 9)
