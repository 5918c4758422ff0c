# Copyright (c) mmppm contributors. All rights reserved.
"""The paper's decoding: each keypoint at its map's maximum."""
from mmpose.registry import MODELS

from .base import MapDecoder


@MODELS.register_module()
class ArgmaxDecoder(MapDecoder):
    """Each keypoint at the pixel of its map's maximum, the maximum its
    score (the paper's decoding; the default of ``model.head.decoder``)."""
