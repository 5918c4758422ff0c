# Copyright (c) mmppm contributors. All rights reserved.
"""The toy world: one drawing code, two uses.

- :func:`generate_toy_mp100`: a small MP-100-format data set (categories of
  keypoint trees), for the toy benchmark, tests and demos;
- the captioned scenes on which the toy Stable Diffusion is pretrained
  (``CaptionedToyScenes``, in projects/toy_sd: fresh objects from a seed
  stream the MP-100 categories never use).
"""
from .toy_mp100 import generate_toy_mp100
from .words import HUES, SHAPES, TONES, all_words, blob_word, hue_bin

__all__ = [
    'HUES', 'SHAPES', 'TONES', 'all_words', 'blob_word', 'generate_toy_mp100',
    'hue_bin'
]
