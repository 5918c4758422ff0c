# Copyright (c) mmppm contributors. All rights reserved.
"""How many UNet passes an episode costs, per map mode: the cost model the
episode benchmark (``tools/analysis/benchmark_episode.py``) reports beside
its timings, kept out of the :class:`~mmppm.models.map_modes.MapMode`
contract (a mode computes maps; what they cost is counted here).

Each map mode's count is a :class:`UNetCalls` keyed by the mode's class
name in :data:`UNET_CALLS`; a map mode of your own adds its entry with
:func:`register_unet_calls` (docs/extending.md). The counts are checked
against the passes a run makes
(``tests/test_analysis/test_unet_calls.py``).
"""
from typing import Callable, Dict, NamedTuple

from mmppm.models.map_modes import MapMode, num_chunks
from mmppm.utils.errors import UserError


class UNetCalls(NamedTuple):
    """The UNet passes of one map mode.

    Attributes:
        fit (Callable): ``fit(mode, steps, num_pairs, num_images)``: its
            ``prepare`` and ``steps`` fit steps over ``num_pairs`` (prompt,
            image) pairs on ``num_images`` support images.
        query (Callable): ``query(mode, num_images, num_prompts)``: its
            query maps of ``num_prompts`` prompts on ``num_images`` images.
    """
    fit: Callable[..., int]
    query: Callable[..., int]


#: Map mode class name -> its count.
UNET_CALLS: Dict[str, UNetCalls] = dict(
    # one pass per chunk of max_batch pairs, every step; the same for maps
    ExactMaps=UNetCalls(
        fit=lambda m, steps, pairs, images: steps * num_chunks(
            pairs, m.max_batch),
        query=lambda m, images, prompts: num_chunks(images * prompts, m.
                                                    max_batch)),
    # one feature pass (prepare); the steps and maps are matrix products
    CachedMaps=UNetCalls(
        fit=lambda m, steps, pairs, images: 1,
        query=lambda m, images, prompts: 1),
    # all support images in one pass per step; queries by chunks of images
    SharedContextMaps=UNetCalls(
        fit=lambda m, steps, pairs, images: steps,
        query=lambda m, images, prompts: num_chunks(images, m.max_batch)),
)

#: Query-map fusion class name -> its UNet passes per episode, ``calls(
#: fusion, num_images)``: ``FeatureSimilarityFusion`` runs every image of
#: the episode in one neutral-context pass per noise draw;
#: ``SupportLayoutPrior`` runs none (least squares on the keypoints); a
#: ``FusionSequence`` (a list config) sums its fusions'.
FUSION_UNET_CALLS: Dict[str, Callable[..., int]] = dict(
    FeatureSimilarityFusion=lambda f, images: f.ensemble,
    SupportLayoutPrior=lambda f, images: 0,
    FusionSequence=lambda f, images: sum(
        fusion_unet_calls(item, images) for item in f.fusions))


def fusion_unet_calls(fusion, num_images: int) -> int:
    """UNet passes of a query-map fusion (``model.fusion``; None: 0)."""
    if fusion is None:
        return 0
    calls = _by_class(FUSION_UNET_CALLS, fusion, 'fusion',
                      'to mmppm_analysis.unet_calls.FUSION_UNET_CALLS')
    return int(calls(fusion, num_images))


def register_unet_calls(name: str, calls: UNetCalls) -> None:
    """Add the count of a map mode of your own (by its class name)."""
    UNET_CALLS[name] = calls


def _by_class(table: dict, obj, kind: str, fix: str):
    """``obj``'s entry of ``table`` (keyed by class name; the nearest of
    its classes), or a one-line error naming ``fix``."""
    for cls in type(obj).__mro__:
        if cls.__name__ in table:
            return table[cls.__name__]
    raise UserError(f'no UNet-call count for {kind} {type(obj).__name__}: '
                    f'add one {fix}')


def _calls(mode: MapMode) -> UNetCalls:
    return _by_class(UNET_CALLS, mode, 'map mode',
                     'with mmppm_analysis.unet_calls.register_unet_calls')


def fit_unet_calls(mode: MapMode, steps: int, num_pairs: int,
                   num_images: int) -> int:
    """UNet passes of a fit with ``mode``."""
    return int(_calls(mode).fit(mode, steps, num_pairs, num_images))


def query_unet_calls(mode: MapMode, num_images: int, num_prompts: int) -> int:
    """UNet passes of the query maps with ``mode``."""
    return int(_calls(mode).query(mode, num_images, num_prompts))


def episode_unet_calls(mode: MapMode, steps: int, num_pairs: int,
                       num_supports: int, num_queries: int,
                       num_prompts: int) -> int:
    """UNet passes of one episode: a fit, then the query maps."""
    return (fit_unet_calls(mode, steps, num_pairs, num_supports) +
            query_unet_calls(mode, num_queries, num_prompts))
