# Copyright (c) mmppm contributors. All rights reserved.
"""The split-cost projection's arithmetic, with known answers."""
import pytest
from mmppm_analysis.split_cost import (PIECES, episode_flops, fit_memory,
                                       largest_batch_within, seconds_at)

FLOPS = dict(
    vae_encode=10.,
    unet_fwd_bwd=300.,
    unet_fwd=100.,
    features=100.,
    maps_fwd_bwd=3.,
    maps_fwd=1.,
    shared_fwd_bwd=310.,
    shared_fwd=105.)


def test_episode_flops_known_answers():
    # K=2, S=1, Q=3, T=4: 4 images encoded; exact: 4 x 2 pairs fwd+bwd and
    # 3 x 2 query maps; cached: 4 feature passes and the map arithmetic.
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'exact') == \
        4 * 10 + 4 * 2 * 300 + 3 * 2 * 100
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'cached') == \
        4 * 10 + 4 * 100 + 4 * 2 * 3 + 3 * 2 * 1
    # shared context: one pass per image and step (all K prompts as its
    # tokens), one per query
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'shared_context') == \
        4 * 10 + 4 * 1 * 310 + 3 * 105
    with pytest.raises(ValueError, match='map mode'):
        episode_flops(FLOPS, 2, 1, 3, 4, 'shared')


def test_warm_start_adds_the_cached_stage():
    # 5 cached steps (1 feature pass on the support, 5 x 2 pair steps),
    # then 4 shared-context steps, queries in shared context
    assert episode_flops(FLOPS, 2, 1, 3, 4, 'shared_context',
                         warm_steps=5) == \
        4 * 10 + (100 + 5 * 2 * 3) + 4 * 310 + 3 * 105
    # no warm steps: the variant alone
    assert episode_flops(FLOPS, 2, 5, 3, 4, 'exact', warm_steps=0) == \
        episode_flops(FLOPS, 2, 5, 3, 4, 'exact')


def test_shots_per_step_counts_the_steps_on_a_subset_of_the_shots():
    # K=2, S=5, Q=3, T=4, 2 shots per step: 8 images encoded, each step
    # on 2 of the 5 supports (cached: features of all 5 still computed)
    assert episode_flops(FLOPS, 2, 5, 3, 4, 'shared_context',
                         shots_per_step=2) == \
        8 * 10 + 4 * 2 * 310 + 3 * 105
    assert episode_flops(FLOPS, 2, 5, 3, 4, 'exact', shots_per_step=2) == \
        8 * 10 + 4 * 2 * 2 * 300 + 3 * 2 * 100
    assert episode_flops(FLOPS, 2, 5, 3, 4, 'cached', shots_per_step=2) == \
        8 * 10 + 5 * 100 + 4 * 2 * 2 * 3 + 3 * (100 + 2 * 1)
    # as many per step as there are shots (or more): the full fit
    for per_step in (5, 9):
        assert episode_flops(FLOPS, 2, 5, 3, 4, 'exact',
                             shots_per_step=per_step) == \
            episode_flops(FLOPS, 2, 5, 3, 4, 'exact')


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
