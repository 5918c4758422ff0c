# Copyright (c) mmppm contributors. All rights reserved.
"""DARK refinement of the argmax (distribution-aware, Zhang et al. 2020)."""
import numpy as np
from mmpose.codecs.utils import refine_keypoints_dark
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import ConfigError
from mmppm.utils.numerics import is_int
from .base import MapDecoder


@MODELS.register_module()
class DarkDecoder(MapDecoder):
    """The argmax refined by a Taylor expansion of the blurred log map
    (mmpose's ``refine_keypoints_dark``, as ``MSRAHeatmap(unbiased=True)``
    decodes).

    Args:
        blur_kernel_size (int): Odd Gaussian kernel size of the blur.
            Defaults to 11.
        what (str): Config path named in errors. Defaults to
            ``'model.head.decoder'``.
    """

    def __init__(self,
                 blur_kernel_size: int = 11,
                 what: str = 'model.head.decoder') -> None:
        super().__init__()
        if not (is_int(blur_kernel_size) and blur_kernel_size >= 1
                and blur_kernel_size % 2 == 1):
            raise ConfigError(f'{what}.blur_kernel_size must be an odd '
                              f'integer >= 1, got {blur_kernel_size!r}')
        self.blur_kernel_size = int(blur_kernel_size)

    def refine(self, keypoints: np.ndarray, maps: Tensor) -> np.ndarray:
        heatmaps = maps.float().cpu().numpy()  # [Q, K, H, W]
        for q in range(keypoints.shape[0]):
            keypoints[q:q + 1] = refine_keypoints_dark(keypoints[q:q + 1],
                                                       heatmaps[q].copy(),
                                                       self.blur_kernel_size)
        return keypoints
