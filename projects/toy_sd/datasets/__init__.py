# Copyright (c) mmppm contributors. All rights reserved.
"""The toy SD's pretraining data: captioned scenes of the toy world
(drawn with :mod:`mmppm.datasets.toy_world`, the code of the toy MP-100
set)."""
from .captioned_scenes import (PRETRAIN_STREAM, CaptionedToyScenes,
                               crop_transform, render_scene)
from .lookalike_scenes import render_lookalike_scene

__all__ = [
    'CaptionedToyScenes', 'PRETRAIN_STREAM', 'crop_transform',
    'render_lookalike_scene', 'render_scene'
]
