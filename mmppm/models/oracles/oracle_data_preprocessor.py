# Copyright (c) mmppm contributors. All rights reserved.
"""The data preprocessor of the oracle models: each image's ground-truth
keypoints ride with it as extra input channels (docs/oracles.md)."""
from typing import List, Sequence, Tuple

import numpy as np
import torch
from mmpose.registry import MODELS
from torch import Tensor

from ..data_preprocessors import EpisodeDataPreprocessor
from ..utils import support_crop_keypoints


def crop_keypoints(sample) -> Tuple[np.ndarray, np.ndarray]:
    """A sample's keypoints ``[K, 2]`` in crop pixels and visibility
    ``[K]``: the pipeline's ``transformed_keypoints`` where it kept them
    (training, after augmentation), else :func:`support_crop_keypoints`."""
    gt = sample.gt_instances
    if 'transformed_keypoints' in gt:
        xy = np.asarray(gt.transformed_keypoints, np.float32)
        vis = np.asarray(gt.keypoints_visible, np.float32)
        return xy.reshape(-1, 2), vis.reshape(-1)
    xy, visible = support_crop_keypoints([sample])
    return xy[0], visible[0].astype(np.float32)


def keypoint_answers(samples: Sequence) -> Tensor:
    """Each sample's keypoints as a row ``[1 + 3K_max]``: ``K``, then
    ``(x / w, y / h, visible)`` per keypoint in crop fractions (zeros
    past ``K``), ``[B, 1 + 3K_max]``."""
    rows: List[np.ndarray] = []
    for sample in samples:
        kpts, vis = crop_keypoints(sample)
        crop_w, crop_h = sample.metainfo['input_size']
        frac = kpts / np.array([crop_w, crop_h], np.float32)
        rows.append(
            np.concatenate([[len(vis)],
                            np.concatenate([frac, vis[:, None]],
                                           1).reshape(-1)]))
    width = max(len(r) for r in rows)
    table = np.zeros((len(rows), width), np.float32)
    for i, row in enumerate(rows):
        table[i, :len(row)] = row
    return torch.from_numpy(table)


def read_answers(answers: Tensor) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Inverse of :func:`keypoint_answers`: per row, keypoints ``[K, 2]``
    in crop fractions and visibility ``[K]``."""
    out = []
    for row in answers.detach().float().cpu().numpy():
        k = int(round(float(row[0])))
        cells = row[1:1 + 3 * k].reshape(k, 3)
        out.append((cells[:, :2], cells[:, 2]))
    return out


@MODELS.register_module()
class OracleDataPreprocessor(EpisodeDataPreprocessor):
    """:class:`EpisodeDataPreprocessor` that appends each image's keypoints.

    The images become ``[B, 3 + A, H, W]``: channels past RGB hold the
    :func:`keypoint_answers` row of the image, constant over the pixels, so
    the answer follows every indexing of an episode's images and survives
    any resize. :class:`OracleSDBackbone` reads them back in ``encode``
    (a part oracle needs them: it plants codes at each image's keypoints).
    mmengine's data preprocessor is the one place that sees the inputs and
    their data samples together; the production backbone therefore takes
    images only. A test instrument: never build it for a predictor.

    Args:
        **kwargs: :class:`EpisodeDataPreprocessor` arguments.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        out = super().forward(data, training)
        inputs, samples = out['inputs'], out['data_samples']
        if samples is None:
            return out
        if isinstance(inputs, Tensor):
            out['inputs'] = with_answers(inputs, samples)
        else:
            out['inputs'] = [
                with_answers(x, s) for x, s in zip(inputs, samples)
            ]
        return out


def with_answers(images: Tensor, samples: Sequence) -> Tensor:
    """``[B, 3, H, W]`` images with their samples' answers appended as
    constant channels, ``[B, 3 + A, H, W]``."""
    answers = keypoint_answers(samples).to(images)  # [B, A]
    planes = answers[:, :, None, None].expand(-1, -1, *images.shape[-2:])
    return torch.cat([images, planes], dim=1)
