"""Pure keypoint and loss-weight functions, known answers."""
import numpy as np
import torch

from mmppm.models.utils import (argmax_2d, crop_to_image, image_to_crop,
                                prompt_pair_weights)


def test_prompt_pair_weights():
    ids = torch.tensor([0, 0, 1, 2, 2, 2])
    np.testing.assert_allclose(
        prompt_pair_weights(ids, 4, 'sum'), [.5, .5, 1., 1 / 3, 1 / 3, 1 / 3])
    # 'mean': also divided by the prompts that have pairs (3 of 4)
    np.testing.assert_allclose(
        prompt_pair_weights(ids, 4, 'mean'),
        [.5 / 3, .5 / 3, 1 / 3, 1 / 9, 1 / 9, 1 / 9])


def test_argmax_2d_ties_take_the_first():
    maps = torch.zeros(2, 3, 4)
    maps[0, 1, 2] = maps[0, 2, 3] = 1.
    maps[1] = 0.5
    xy, vals = argmax_2d(maps)
    np.testing.assert_array_equal(xy.numpy(), [[2, 1], [0, 0]])
    np.testing.assert_array_equal(vals.numpy(), [1., 0.5])


def test_crop_image_round_trip_and_known_point():
    center, scale, size = (50., 40.), (64., 32.), (32, 16)
    pts = np.array([[0., 0.], [31., 15.], [16., 8.]], np.float32)
    back = image_to_crop(
        crop_to_image(pts, center, scale, size), center, scale, size)
    np.testing.assert_allclose(back, pts, atol=1e-4)
    # the crop centre maps to the bbox centre
    np.testing.assert_allclose(
        crop_to_image(np.array([[16., 8.]]), center, scale, size),
        [[50., 40.]])
