# Copyright (c) mmppm contributors. All rights reserved.
"""The split-cost projection's arithmetic, with known answers."""
import pytest

from mmppm.analysis.split_cost import (PIECES, episode_flops, fit_memory,
                                       largest_batch_within, seconds_at)

FLOPS = dict(
    vae_encode=10.,
    unet_fwd_bwd=300.,
    unet_fwd=100.,
    features=100.,
    maps_fwd_bwd=3.,
    maps_fwd=1.)


def test_episode_flops_known_answers():
    # K=2, S=1, Q=3, T=4: 4 images encoded; exact: 4 x 2 pairs fwd+bwd and
    # 3 x 2 query maps; cached: 4 feature passes and the map arithmetic.
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'exact') == \
        4 * 10 + 4 * 2 * 300 + 3 * 2 * 100
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'cached') == \
        4 * 10 + 4 * 100 + 4 * 2 * 3 + 3 * 2 * 1
    with pytest.raises(ValueError, match='variant'):
        episode_flops(FLOPS, 2, 1, 3, 4, 'shared')


def test_memory_fit_known_answers():
    base, per_pair = fit_memory([(1, 1500.), (2, 2000.), (4, 3000.)])
    assert base == pytest.approx(1000.) and per_pair == pytest.approx(500.)
    assert largest_batch_within(24 * 1024, base, per_pair) == 47
    assert largest_batch_within(900., base, per_pair) == 0
    assert seconds_at(4e14, 200.) == pytest.approx(2.0)
    with pytest.raises(ValueError, match='two or more'):
        fit_memory([(4, 10.), (4, 12.)])


def test_the_pieces_are_the_counted_ones():
    assert set(FLOPS) == set(PIECES)
