"""The oracles' arithmetic: codes and queries with a known logit."""
import math

import numpy as np
import pytest
import torch

from mmppm.models.utils import cross_attn_map
from mmppm.models.utils.oracle_codes import (code_lift, code_queries,
                                             fourier_position_codes,
                                             orthonormal_basis, part_codes)


def test_code_queries_give_the_planted_logit():
    # map = sigmoid(mean over heads of q.k / sqrt(d)), k = W_k P:
    # the planted queries make the logit exactly gain * z . P
    g = torch.Generator().manual_seed(0)
    c, inner, heads, gain = 6, 16, 4, 2.5
    w_k = torch.randn(inner, c, generator=g)
    codes = torch.randn(2, 5, c, generator=g)  # [B, N, c]
    prompt = torch.randn(2, 1, c, generator=g)
    q = code_queries(codes, code_lift(w_k), heads, gain)
    maps = cross_attn_map(q, prompt @ w_k.t(), heads)  # [B, 1, N]
    logit = torch.log(maps / (1 - maps))[:, 0]
    expected = gain * (codes * prompt).sum(-1)
    torch.testing.assert_close(logit, expected, atol=1e-3, rtol=1e-3)


def test_orthonormal_basis():
    b = orthonormal_basis(8, 5, seed=3)
    torch.testing.assert_close(b @ b.t(), torch.eye(5), atol=1e-5, rtol=0)
    torch.testing.assert_close(b, orthonormal_basis(8, 5, seed=3))
    with pytest.raises(ValueError, match='orthonormal'):
        orthonormal_basis(4, 5, seed=0)


def test_fourier_codes_kernel_peaks_at_the_same_pixel():
    freqs = torch.tensor([[1., 0.], [0., 2.], [1.5, 1.5]])
    codes = fourier_position_codes(8, 8, freqs)  # [7, 8, 8]
    assert codes.shape == (7, 8, 8)
    assert torch.all(codes[0] == 1)
    flat = codes.flatten(1).t()  # [64, 7]
    kernel = flat @ flat[19]  # pixel (x=3, y=2)
    assert int(kernel.argmax()) == 19
    assert float(kernel[19]) == pytest.approx(2.0, abs=1e-5)  # 1 + mean 1


def test_part_codes_blob_at_keypoint_and_none_when_invisible():
    blobs = part_codes(
        np.array([[2.5, 1.5], [0.5, 0.5]]),
        np.array([1, 0]), (4, 6),
        sigma=1.0)
    assert blobs.shape == (2, 4, 6)
    assert float(blobs[0, 1, 2]) == pytest.approx(1.0)  # pixel centre
    assert float(blobs[0, 1, 3]) == pytest.approx(math.exp(-0.5))
    assert float(blobs[1].abs().sum()) == 0.0
