# Copyright (c) mmppm contributors. All rights reserved.
"""The contract of a map decoder (``model.head.decoder``)."""
from typing import Tuple

import numpy as np
from torch import Tensor, nn

from ..utils import argmax_2d


class MapDecoder(nn.Module):
    """Maps ``[Q, K, H, W]`` -> keypoints ``[Q, K, 2]`` (map pixels) and
    scores ``[Q, K]`` (numpy). The base decodes each map at its maximum
    (the paper's argmax); a subclass refines that location in
    :meth:`refine`. A new decoder is a new registered subclass
    (docs/extending.md)."""

    def forward(self, maps: Tensor) -> Tuple[np.ndarray, np.ndarray]:
        xy, vals = argmax_2d(maps)
        keypoints = xy.cpu().numpy().astype(np.float32)
        scores = vals.float().cpu().numpy()
        return self.refine(keypoints, maps), scores

    def refine(self, keypoints: np.ndarray, maps: Tensor) -> np.ndarray:
        """Sub-pixel refinement of the maxima (none here)."""
        return keypoints
