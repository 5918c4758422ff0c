# Copyright (c) mmppm contributors. All rights reserved.
"""The part oracle: keypoint n carries the same code in every image."""
from typing import Optional, Tuple

import numpy as np
import torch
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..utils.oracle_codes import orthonormal_basis, part_codes
from .oracle_data_preprocessor import read_answers


@MODELS.register_module()
class PartOracle:
    """Plants ``z(x) = e_0 + sum_n u_n g(x - kp_n)`` around each keypoint.

    ``e_0`` (everywhere) and ``u_n`` (a blob of sigma ``sigma`` latent pixels
    around keypoint n of *this* image) are fixed orthonormal vectors of
    prompt space, the same for every image. A prompt ``P = a u_n - b e_0``
    therefore peaks at keypoint n on the support *and on every query*: the
    model a perfect SD would be. Needs ground-truth keypoints of every image
    (support and query), so it is a test instrument, never a predictor.

    Args:
        sigma (float): Blob sigma in latent pixels. Defaults to 1.0.
        gain (float): Logit per unit of ``z . P``. Defaults to 4.0.
        seed (int): Seed of the code vectors. Defaults to 0.
    """

    def __init__(self,
                 sigma: float = 1.0,
                 gain: float = 4.0,
                 seed: int = 0) -> None:
        if sigma <= 0 or gain <= 0:
            raise UserError(f'PartOracle needs sigma > 0 and gain > 0, got '
                            f'{sigma}, {gain}')
        self.sigma = float(sigma)
        self.gain = float(gain)
        self.seed = int(seed)

    def vectors(self, num_kpts: int, code_dim: int) -> Tensor:
        """``e_0`` and ``u_1..u_K`` as rows, ``[K + 1, c]``; orthonormal
        while ``K + 1 <= c``, random unit vectors (nearly orthogonal)
        beyond."""
        if num_kpts + 1 <= code_dim:
            return orthonormal_basis(code_dim, num_kpts + 1, self.seed)
        g = torch.Generator().manual_seed(self.seed)
        vecs = torch.randn(num_kpts + 1, code_dim, generator=g)
        return vecs / vecs.norm(dim=1, keepdim=True)

    def scene(self, answers: Optional[Tensor], num_images: int,
              latent_hw: Tuple[int, int], code_dim: int) -> Tensor:
        """Codes ``[B, c, h, w]`` from each image's keypoints (``answers``:
        the rows of :func:`~.oracle_data_preprocessor.keypoint_answers`)."""
        if answers is None or len(answers) != num_images:
            raise UserError(
                'PartOracle needs the ground-truth keypoints of every '
                "encoded image: build the model with data_preprocessor=dict("
                "type='OracleDataPreprocessor') -- it is a test instrument "
                'for episodes with annotated queries, not a predictor.')
        h, w = latent_hw
        scenes = []
        for frac, vis in read_answers(answers):
            kpts = frac * np.array([w, h], np.float32)
            blobs = part_codes(kpts, vis, latent_hw, self.sigma)  # [K, h, w]
            vecs = self.vectors(len(kpts), code_dim)  # [K + 1, c]
            codes = vecs[0, :, None, None] + torch.einsum(
                'kc,khw->chw', vecs[1:], blobs)
            scenes.append(codes)
        return torch.stack(scenes)

    def ideal_prompt(self,
                     index: int,
                     num_kpts: int,
                     code_dim: int,
                     contrast: float = 3.0) -> Tensor:
        """``[1, c]`` prompt of keypoint ``index``: logit ``+gain*contrast``
        on the keypoint, ``-gain*contrast`` away from every keypoint."""
        vecs = self.vectors(num_kpts, code_dim)
        return (contrast * (2 * vecs[1 + index] - vecs[0]))[None]
