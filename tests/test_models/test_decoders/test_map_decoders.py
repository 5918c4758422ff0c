# Copyright (c) mmppm contributors. All rights reserved.
"""Map decoders (``model.head.decoder``): known answers on synthetic maps."""
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

import mmppm  # noqa: F401
from mmppm.models.heads import PromptMatchingHead


def gaussian(h, w, x, y, sigma=2.0):
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=torch.float32),
        torch.arange(w, dtype=torch.float32),
        indexing='ij')
    return torch.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))


def test_argmax_is_the_maximum_and_its_value():
    maps = torch.zeros(2, 3, 8, 10)
    for q in range(2):
        for k in range(3):
            maps[q, k, k + q, 2 * k + 1] = 0.5 + k
    keypoints, scores = MODELS.build(dict(type='ArgmaxDecoder'))(maps)
    assert keypoints.shape == (2, 3, 2) and keypoints.dtype == np.float32
    np.testing.assert_array_equal(keypoints[1, 2], [5, 3])  # (x, y)
    np.testing.assert_allclose(scores[0], [0.5, 1.5, 2.5])


def test_quarter_offset_moves_towards_the_higher_neighbour():
    maps = torch.zeros(1, 1, 9, 9)
    maps[0, 0, 4, 4] = 1.0
    maps[0, 0, 4, 5] = 0.5  # right neighbour higher than the left
    maps[0, 0, 3, 4] = 0.5  # upper neighbour higher than the lower
    keypoints, _ = MODELS.build(dict(type='QuarterOffsetDecoder'))(maps)
    np.testing.assert_allclose(keypoints[0, 0], [4.25, 3.75])


def test_dark_recovers_a_subpixel_peak():
    maps = gaussian(32, 32, 12.4, 17.7)[None, None]
    argmax, _ = MODELS.build(dict(type='ArgmaxDecoder'))(maps)
    dark, _ = MODELS.build(dict(type='DarkDecoder', blur_kernel_size=3))(maps)
    truth = np.array([12.4, 17.7])
    assert np.abs(dark[0, 0] - truth).max() < 0.1
    assert np.abs(dark[0, 0] - truth).max() < np.abs(argmax[0, 0] -
                                                     truth).max()


@pytest.mark.parametrize('size', [0, 4, 2.5])
def test_dark_kernel_is_checked(size):
    with pytest.raises(
            ValueError,
            match=r'^model.head.decoder.blur_kernel_size must be an odd'):
        PromptMatchingHead(
            decoder=dict(type='DarkDecoder', blur_kernel_size=size))


def test_the_head_decodes_with_its_decoder():
    maps = gaussian(16, 16, 5.3, 9.0)[None, None]
    plain = PromptMatchingHead().decode(maps)[0]
    refined = PromptMatchingHead(decoder=dict(
        type='QuarterOffsetDecoder')).decode(maps)[0]
    np.testing.assert_array_equal(plain[0, 0], [5, 9])
    np.testing.assert_allclose(refined[0, 0], [5.25, 9])


def test_a_decoder_of_another_kind_is_refused():
    with pytest.raises(
            ValueError,
            match=r"^model.head.decoder.type='MSEMapLoss' is not a "
            r"registered MapDecoder \(valid: \['ArgmaxDecoder', "
            r"'DarkDecoder', 'QuarterOffsetDecoder'\]\)$"):
        PromptMatchingHead(decoder=dict(type='MSEMapLoss'))
