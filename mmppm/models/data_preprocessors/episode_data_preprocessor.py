# Copyright (c) mmppm contributors. All rights reserved.
"""Batches of images or episodes -> RGB tensors in [-1, 1] on the device."""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseDataPreprocessor
from mmpose.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class EpisodeDataPreprocessor(BaseDataPreprocessor):
    """Normalise images for Stable Diffusion and move them to the device.

    ``inputs`` is a list with one uint8 ``[3, H, W]`` image per sample
    (training) or one ``[S + Q, 3, H, W]`` stack per episode (testing).
    Images come BGR from mmpose's ``LoadImage``; SD wants RGB in [-1, 1].

    Args:
        bgr_to_rgb (bool): Flip channels. Defaults to True.
        mean (float): Subtracted. Defaults to 127.5.
        std (float): Divided by. Defaults to 127.5.
    """

    def __init__(self,
                 bgr_to_rgb: bool = True,
                 mean: float = 127.5,
                 std: float = 127.5) -> None:
        super().__init__()
        self.bgr_to_rgb = bgr_to_rgb
        self.mean = mean
        self.std = std

    def _normalise(self, img: Tensor) -> Tensor:
        img = img.to(self.device).float()
        if self.bgr_to_rgb:
            img = img.flip(-3)
        return (img - self.mean) / self.std

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: Union[Tensor, List[Tensor]] = data['inputs']
        if isinstance(inputs, Tensor):
            inputs = list(inputs) if inputs.ndim == 4 else [inputs]
        if inputs and inputs[0].ndim == 3:  # single images: one batch
            batch = self._normalise(torch.stack(inputs))
        else:  # episodes: keep one stack per episode
            batch = [self._normalise(x) for x in inputs]
        return dict(inputs=batch, data_samples=data.get('data_samples'))


def build_data_preprocessor(
        cfg: Optional[Union[dict, nn.Module]]) -> nn.Module:
    """Build a model's data preprocessor in mmpose's registry scope.

    mmengine's ``BaseModel`` would build a config dict in mmengine's own
    registry, where mmppm's preprocessor is not. None gives
    :class:`EpisodeDataPreprocessor`.
    """
    if cfg is None:
        cfg = dict(type='EpisodeDataPreprocessor')
    return MODELS.build(cfg) if isinstance(cfg, dict) else cfg
