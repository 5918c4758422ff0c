# Copyright (c) mmppm contributors. All rights reserved.
"""Ways of computing prompt maps (``model.fitter.map_mode``,
``model.train_cfg.map_mode``): registered :class:`MapMode` classes."""
from .base import (FitPairs, MapMode, chunks, neutral_queries, num_chunks,
                   sample_shots)
from .cached import CachedMaps, maps_from_queries
from .exact import ExactMaps
from .shared_context import SharedContextMaps

__all__ = [
    'CachedMaps', 'ExactMaps', 'FitPairs', 'MapMode', 'SharedContextMaps',
    'chunks', 'maps_from_queries', 'neutral_queries', 'num_chunks',
    'sample_shots'
]
