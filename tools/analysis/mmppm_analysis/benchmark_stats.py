# Copyright (c) mmppm contributors. All rights reserved.
"""Error bars for the toy benchmark (docs/toy_benchmark.md): pure functions.

The unit of a score is the *episode*: its PCK is the mean over its queries
(every episode of a run has the same number of queries, so the mean over
episodes is the mean over queries the metric reports). A run over several
toy data seeds is a list of per-seed tables ``{(category, index):
score}``, ``index`` counting a category's episodes in order (0, 1, ...).

**Interval.** A percentile bootstrap with two stages inside each seed:
draw the seed's categories with replacement, then each drawn category's
episodes with replacement; the seed's statistic is the mean over the drawn
episodes, the run's the mean over seeds. Categories are resampled because
they are themselves random draws of the toy world and decide most of the
spread (three test categories moved support copy by 14 points between
seeds); an episode-only bootstrap would call that noise signal.

**Paired difference** of two runs: the per-episode difference on the
episodes both ran (same seed, category and index: the same supports and
queries where both used the same shots and episode counts), bootstrapped
the same way. Its verdict: the claim ``A - B > 0`` *holds* where the whole
interval is above 0, *does not hold* where it is below 0, and *cannot
tell* where it contains 0.
"""
from collections import OrderedDict
from typing import Dict, Hashable, Iterable, List, Sequence, Tuple

import numpy as np

#: ``{(category, index): score}`` of one seed.
SeedScores = Dict[Tuple[Hashable, int], float]


def episode_scores(queries: Iterable[dict],
                   thr_index: int,
                   key: str = 'pck') -> SeedScores:
    """Per-episode scores from per-query records.

    Args:
        queries (Iterable[dict]): Records with ``category_name``,
            ``episode_id`` and ``key`` (a list of values per threshold), as
            ``EpisodicPCK(outfile_prefix=...)`` writes them.
        thr_index (int): Which threshold's value.
        key (str): ``'pck'`` (query PCK) or ``'fit_pck'``. Records without
            it are skipped. Defaults to 'pck'.

    Returns:
        dict: ``{(category, index): mean over the episode's queries}``,
        ``index`` the episode's rank within its category (by episode id).
    """
    per_episode: Dict[Tuple[Hashable, int], List[float]] = OrderedDict()
    for q in queries:
        if q.get(key) is None:
            continue
        per_episode.setdefault((q['category_name'], int(q['episode_id'])),
                               []).append(float(q[key][thr_index]))
    ids: Dict[Hashable, List[int]] = {}
    for cat, episode_id in per_episode:
        ids.setdefault(cat, []).append(episode_id)
    rank = {
        (cat, e): i
        for cat, eps in ids.items()
        for i, e in enumerate(sorted(eps))
    }
    return {
        (cat, rank[cat, e]): float(np.mean(v))
        for (cat, e), v in per_episode.items()
    }


def paired_scores(a: SeedScores, b: SeedScores) -> SeedScores:
    """``a - b`` on the episodes both have (the others are dropped)."""
    return {k: a[k] - b[k] for k in a if k in b}


def _padded(scores: SeedScores) -> Tuple[np.ndarray, np.ndarray]:
    """Scores as a [categories, max episodes] array (NaN-padded) and each
    category's episode count."""
    cats: Dict[Hashable, List[float]] = OrderedDict()
    for (cat, _), v in sorted(scores.items(), key=lambda kv: str(kv[0])):
        cats.setdefault(cat, []).append(v)
    counts = np.array([len(v) for v in cats.values()])
    table = np.full((len(cats), counts.max()), np.nan)
    for i, v in enumerate(cats.values()):
        table[i, :len(v)] = v
    return table, counts


def bootstrap_means(seeds: Sequence[SeedScores],
                    num_samples: int = 10000,
                    rng_seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of the mean over seeds of the per-seed mean
    score (categories, then episodes within them, resampled per seed).

    Args:
        seeds (Sequence[dict]): One non-empty score table per seed.
        num_samples (int): Replicates. Defaults to 10000.
        rng_seed (int): Seed of the resampling. Defaults to 0.

    Returns:
        np.ndarray: ``[num_samples]`` replicates.
    """
    rng = np.random.default_rng(rng_seed)
    total = np.zeros(num_samples)
    for scores in seeds:
        table, counts = _padded(scores)  # [C, E], [C]
        num_cats = len(counts)
        cat = rng.integers(0, num_cats, (num_samples, num_cats))  # [B, C]
        width = table.shape[1]
        # episode j of each drawn category: floor(u * its count) < count
        ep = (rng.random(
            (num_samples, num_cats, width)) * counts[cat][..., None]).astype(
                int)  # [B, C, E]
        vals = table[cat[..., None], ep]  # [B, C, E]
        valid = np.arange(width) < counts[cat][..., None]  # [B, C, E]
        total += np.where(valid, vals, 0.).sum((1, 2)) / valid.sum((1, 2))
    return total / len(seeds)


def point_estimate(seeds: Sequence[SeedScores]) -> float:
    """Mean over seeds of the per-seed mean over episodes."""
    return float(np.mean([np.mean(list(s.values())) for s in seeds]))


def mean_interval(seeds: Sequence[SeedScores],
                  level: float = 0.95,
                  num_samples: int = 10000,
                  rng_seed: int = 0) -> Tuple[float, float, float]:
    """The point estimate and its percentile bootstrap interval.

    Returns:
        tuple[float]: ``(mean, low, high)``.
    """
    reps = bootstrap_means(seeds, num_samples, rng_seed)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(reps, [tail, 100 - tail])
    return point_estimate(seeds), float(low), float(high)


def verdict(low: float, high: float) -> str:
    """The claim ``difference > 0`` judged by its interval."""
    if low > 0:
        return 'holds'
    if high < 0:
        return 'does not hold'
    return 'cannot tell'


def per_category_means(seeds: Dict[Hashable, SeedScores]) -> Dict[str, float]:
    """Mean score per ``seed<s>/<category>`` (``seeds`` keyed by the data
    seed), for reading which categories decide a difference."""
    out: Dict[str, List[float]] = OrderedDict()
    for seed, scores in seeds.items():
        for (cat, _), v in scores.items():
            out.setdefault(f'seed{seed}/{cat}', []).append(v)
    return {k: float(np.mean(v)) for k, v in out.items()}
