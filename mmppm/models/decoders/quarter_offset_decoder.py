# Copyright (c) mmppm contributors. All rights reserved.
"""The argmax moved a quarter pixel towards the higher neighbour."""
import numpy as np
from mmpose.codecs.utils import refine_keypoints
from mmpose.registry import MODELS
from torch import Tensor

from .base import MapDecoder


@MODELS.register_module()
class QuarterOffsetDecoder(MapDecoder):
    """The argmax moved by a quarter pixel along the sign of the map's
    gradient there (mmpose's ``refine_keypoints``, as ``MSRAHeatmap``
    decodes)."""

    def refine(self, keypoints: np.ndarray, maps: Tensor) -> np.ndarray:
        heatmaps = maps.float().cpu().numpy()  # [Q, K, H, W]
        for q in range(keypoints.shape[0]):
            keypoints[q:q + 1] = refine_keypoints(keypoints[q:q + 1],
                                                  heatmaps[q])
        return keypoints
