# Copyright (c) mmppm contributors. All rights reserved.
"""The toy world: one drawing code, two uses (docs/toy_sd.md).

- :func:`generate_toy_mp100`: a small MP-100-format data set (categories of
  keypoint trees), for the toy benchmark, tests and demos;
- :class:`CaptionedToyScenes`: captioned scenes of fresh objects from a seed
  stream the MP-100 categories never use, on which the toy Stable Diffusion
  is pretrained.
"""
from .captioned_scenes import (PRETRAIN_STREAM, CaptionedToyScenes,
                               crop_transform, render_scene)
from .toy_mp100 import generate_toy_mp100
from .words import HUES, SHAPES, TONES, all_words, blob_word, hue_bin

__all__ = [
    'CaptionedToyScenes', 'HUES', 'PRETRAIN_STREAM', 'SHAPES', 'TONES',
    'all_words', 'blob_word', 'crop_transform', 'generate_toy_mp100',
    'hue_bin', 'render_scene'
]
