# Copyright (c) mmppm contributors. All rights reserved.
"""Map decoders of the head (``model.head.decoder``): registered
:class:`MapDecoder` classes."""
from .argmax_decoder import ArgmaxDecoder
from .base import MapDecoder
from .dark_decoder import DarkDecoder
from .quarter_offset_decoder import QuarterOffsetDecoder

__all__ = [
    'ArgmaxDecoder', 'DarkDecoder', 'MapDecoder', 'QuarterOffsetDecoder'
]
