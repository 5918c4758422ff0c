# Copyright (c) mmppm contributors. All rights reserved.
"""Ways of computing prompt maps (``test_cfg.map_features``)."""
from .base import FitPairs, MapMode, chunks, num_chunks
from .cached import CachedMaps
from .exact import ExactMaps
from .shared_context import SharedContextMaps

#: ``test_cfg.map_features`` value -> mode class.
MAP_MODES = dict(
    exact=ExactMaps, cached=CachedMaps, shared_context=SharedContextMaps)

__all__ = [
    'CachedMaps', 'ExactMaps', 'FitPairs', 'MAP_MODES', 'MapMode',
    'SharedContextMaps', 'chunks', 'num_chunks'
]
