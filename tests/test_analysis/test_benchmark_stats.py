# Copyright (c) mmppm contributors. All rights reserved.
"""Known answers for the toy benchmark's error bars."""
import numpy as np
import pytest
from mmppm_analysis import benchmark_stats as bs


def _seed(values_per_cat):
    """{(category, index): score} from {category: [scores]}."""
    return {
        (c, i): float(v)
        for c, vals in values_per_cat.items()
        for i, v in enumerate(vals)
    }


def _random_seed(rng, cats=6, episodes=4, shift=0.):
    return _seed(
        {f'c{c}': rng.uniform(0, 1, episodes) + shift
         for c in range(cats)})


def test_interval_of_a_constant_score_has_zero_width():
    seeds = [_seed({'a': [0.7] * 4, 'b': [0.7] * 3}), _seed({'c': [0.7] * 5})]
    mean, low, high = bs.mean_interval(seeds, num_samples=500)
    assert mean == pytest.approx(0.7) and low == pytest.approx(0.7) \
        and high == pytest.approx(0.7)


def test_paired_difference_of_a_run_with_itself_is_exactly_zero():
    rng = np.random.default_rng(0)
    run = [_random_seed(rng), _random_seed(rng)]
    diffs = [bs.paired_scores(s, s) for s in run]
    assert bs.mean_interval(diffs, num_samples=500) == (0.0, 0.0, 0.0)
    assert bs.verdict(0.0, 0.0) == 'cannot tell'


def test_a_planted_difference_of_five_points_is_recovered():
    rng = np.random.default_rng(1)
    b = [_random_seed(rng), _random_seed(rng)]
    a = [{k: v + 0.05 for k, v in s.items()} for s in b]
    diffs = [bs.paired_scores(x, y) for x, y in zip(a, b)]
    mean, low, high = bs.mean_interval(diffs, num_samples=500)
    assert (mean, low, high) == pytest.approx((0.05, 0.05, 0.05))
    assert bs.verdict(low, high) == 'holds'
    # the unpaired intervals of a and b overlap: only pairing resolves it
    _, a_low, _ = bs.mean_interval(a, num_samples=500)
    _, _, b_high = bs.mean_interval(b, num_samples=500)
    assert a_low < b_high


def test_verdicts():
    assert bs.verdict(0.01, 0.03) == 'holds'
    assert bs.verdict(-0.03, -0.01) == 'does not hold'
    assert bs.verdict(-0.01, 0.02) == 'cannot tell'


def test_point_estimate_is_the_mean_over_seeds_of_episode_means():
    seeds = [_seed({'a': [1, 0], 'b': [1, 1]}), _seed({'c': [0, 0]})]
    assert bs.point_estimate(seeds) == pytest.approx((0.75 + 0) / 2)


def test_interval_covers_the_mean_and_shrinks_with_more_categories():
    rng = np.random.default_rng(2)
    few = [_random_seed(rng, cats=4)]
    many = [_random_seed(rng, cats=64)]
    m, lo, hi = bs.mean_interval(few, num_samples=2000)
    assert lo < m < hi
    m2, lo2, hi2 = bs.mean_interval(many, num_samples=2000)
    assert hi2 - lo2 < hi - lo


def test_category_resampling_widens_the_interval_when_categories_differ():
    """Between-category spread enters the interval: categories at 0 and 1
    with identical episodes inside give a wide interval, not a zero one."""
    seeds = [_seed({f'c{i}': [i % 2] * 5 for i in range(10)})]
    _, low, high = bs.mean_interval(seeds, num_samples=2000)
    assert high - low > 0.3


def test_ragged_categories_draw_only_their_own_episodes():
    # a NaN pad drawn by mistake would make the replicates NaN
    seeds = [_seed({'a': [0.2], 'b': [0.4, 0.4, 0.4, 0.4]})]
    reps = bs.bootstrap_means(seeds, num_samples=300)
    assert np.isfinite(reps).all() and reps.min() >= 0.2 - 1e-12 \
        and reps.max() <= 0.4 + 1e-12


def test_episode_scores_average_queries_and_rank_episodes_per_category():
    queries = [
        dict(category_name='x', episode_id=7, pck=[0.0, 1.0]),
        dict(category_name='x', episode_id=7, pck=[0.0, 0.5]),
        dict(category_name='x', episode_id=3, pck=[0.0, 0.25]),
        dict(category_name='y', episode_id=9, pck=[0.0, 1.0], fit_pck=[1, 1]),
    ]
    assert bs.episode_scores(queries, 1) == {
        ('x', 1): 0.75,
        ('x', 0): 0.25,
        ('y', 0): 1.0
    }
    assert bs.episode_scores(queries, 1, 'fit_pck') == {('y', 0): 1.0}


def test_paired_scores_keep_the_common_episodes_only():
    a = _seed({'x': [0.5, 0.5], 'y': [1.0]})
    b = _seed({'x': [0.25]})
    assert bs.paired_scores(a, b) == {('x', 0): 0.25}


def test_per_category_means_name_the_seed():
    out = bs.per_category_means({3: _seed({'x': [0.5, 1.0]})})
    assert out == {'seed3/x': 0.75}
