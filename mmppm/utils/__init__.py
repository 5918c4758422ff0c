# Copyright (c) mmppm contributors. All rights reserved.
"""The package's lowest layer (docs/code_map.md): errors, numerics, file
and image I/O, SD loading, config checks. It imports nothing else of
mmppm."""
from .errors import MissingFileError, UserError
from .numerics import check_finite, to_numpy
from .sd_loading import (SDWeightsNotFoundError, load_sd_components,
                         load_text_components)

__all__ = [
    'MissingFileError', 'SDWeightsNotFoundError', 'UserError', 'check_finite',
    'load_sd_components', 'load_text_components', 'to_numpy'
]
