# Copyright (c) mmppm contributors. All rights reserved.
"""The positional oracle: every pixel carries a code of its position."""
import math
from typing import Optional, Sequence, Tuple

import torch
from mmpose.registry import MODELS
from torch import Tensor

from mmppm.utils.errors import UserError
from ..utils.oracle_codes import fourier_position_codes, orthonormal_basis


@MODELS.register_module()
class PositionalOracle:
    """Plants ``z(x) = E [1, Fourier features of x]`` in every captured layer.

    The map logit of a prompt ``P`` at pixel ``x`` gains ``gain * z(x) . P``
    (:func:`mmppm.models.utils.oracle_codes.code_queries`). The prompt
    ``P = E [-b, a f(x0)]`` then has the logit ``gain * (a k(x - x0) - b)``
    with a kernel ``k`` that peaks at ``x0``: a prompt that localises any
    pixel exists and is known (:meth:`ideal_prompt`). It does *not* carry
    over between images (the same pixel in every image), so it tests the
    fit on the support only.

    Args:
        num_freqs (int): Number of Fourier frequencies F (2F + 1 code
            dimensions, at most the prompt's ``c``). Defaults to 8.
        max_freq (float): Largest frequency in cycles per map side;
            frequencies are spread geometrically from ``max_freq / 4``.
            Defaults to 2.0.
        gain (float): Logit per unit of ``z . P``. Defaults to 4.0.
        seed (int): Seed of the frequency directions and the embedding E.
            Defaults to 0.
    """

    def __init__(self,
                 num_freqs: int = 8,
                 max_freq: float = 2.0,
                 gain: float = 4.0,
                 seed: int = 0) -> None:
        if num_freqs < 1 or max_freq <= 0 or gain <= 0:
            raise UserError('PositionalOracle needs num_freqs >= 1, '
                            f'max_freq > 0 and gain > 0, got {num_freqs}, '
                            f'{max_freq}, {gain}')
        self.num_freqs = int(num_freqs)
        self.gain = float(gain)
        self.seed = int(seed)
        radii = max_freq * torch.logspace(-math.log10(4), 0, num_freqs)
        angles = torch.arange(num_freqs) * math.pi * (3 - math.sqrt(5))
        self.freqs = torch.stack(
            [radii * torch.cos(angles), radii * torch.sin(angles)],
            -1)  # [F, 2]

    def basis(self, code_dim: int) -> Tensor:
        """Embedding E of the ``2F + 1`` features in prompt space, ``[2F+1,
        c]`` (orthonormal rows)."""
        return orthonormal_basis(code_dim, 2 * self.num_freqs + 1, self.seed)

    def scene(self, answers: Optional[Tensor], num_images: int,
              latent_hw: Tuple[int, int], code_dim: int) -> Tensor:
        """Codes ``[B, c, h, w]`` (the same for every image; ``answers``,
        the images' keypoints, are not needed)."""
        feats = fourier_position_codes(*latent_hw, self.freqs)  # [D, h, w]
        codes = torch.einsum('dc,dhw->chw', self.basis(code_dim), feats)
        return codes[None].expand(num_images, -1, -1, -1).contiguous()

    def ideal_prompt(self,
                     xy: Sequence[float],
                     latent_hw: Tuple[int, int],
                     code_dim: int,
                     contrast: float = 3.0) -> Tensor:
        """A prompt ``[1, c]`` whose logit peaks at ``xy`` (latent pixels).

        Logit ``gain * contrast * (2 k(x - xy) - 1)``: ``+gain * contrast``
        at ``xy``, about ``-gain * contrast`` far from it.
        """
        h, w = latent_hw
        x = torch.tensor([[xy[0] / w, xy[1] / h]], dtype=torch.float32)
        phase = 2 * math.pi * x @ self.freqs.t()
        feats = torch.cat([torch.cos(phase), torch.sin(phase)], -1)
        feats = feats / math.sqrt(self.num_freqs)
        coef = torch.cat([-torch.ones(1, 1), 2 * feats], -1) * contrast
        return coef @ self.basis(code_dim)
