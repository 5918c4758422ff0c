"""Map objectives of the prompt fit, with known answers."""
import math

import numpy as np
import pytest
import torch

from mmppm.models.utils import MAP_LOSSES, map_loss, map_loss_vs_zero


def gaussian(h=16, w=16, x=5., y=9., sigma=2.):
    ys, xs = torch.meshgrid(torch.arange(h).float(), torch.arange(w).float(),
                            indexing='ij')
    return torch.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))[None]


def test_perfect_map_is_the_minimum_of_every_objective():
    t = gaussian()
    for kind in MAP_LOSSES:
        perfect = float(map_loss(t, t, kind))
        shifted = float(map_loss(gaussian(x=11.), t, kind))
        zero = float(map_loss(torch.full_like(t, 1e-6), t, kind))
        assert perfect < shifted and perfect < zero, kind


def test_mse_is_the_pixel_mean():
    t = gaussian()
    assert float(map_loss(torch.zeros_like(t), t, 'mse')) == pytest.approx(
        float((t**2).mean()))


def test_balanced_mse_weighs_target_and_background_equally():
    t = torch.zeros(1, 4, 4)
    t[0, 0, 0] = 1.
    # all-zero map: error 1 on the one target pixel, weight 0.5 * (1 + 0)
    assert float(map_loss(torch.zeros_like(t), t,
                          'balanced_mse')) == pytest.approx(0.5)
    # all-one map: error 1 on the 15 background pixels, weight 0.5 / 15 each
    assert float(map_loss(torch.ones_like(t), t,
                          'balanced_mse')) == pytest.approx(0.5)


def test_normalized_ce_is_the_target_entropy_at_the_optimum_and_scale_free():
    t = gaussian()
    p = t / t.sum()
    entropy = float(-(p * p.log()).sum())
    assert float(map_loss(t, t, 'normalized_ce')) == pytest.approx(entropy,
                                                                   rel=1e-5)
    m = torch.rand_like(t)
    assert float(map_loss(m, t, 'normalized_ce')) == pytest.approx(
        float(map_loss(0.1 * m, t, 'normalized_ce')), rel=1e-5)
    uniform = float(map_loss(torch.ones_like(t), t, 'normalized_ce'))
    assert uniform == pytest.approx(math.log(16 * 16), rel=1e-5)


def test_unknown_map_loss():
    with pytest.raises(ValueError, match='normalized_ce'):
        map_loss(gaussian(), gaussian(), 'l1')


def test_map_loss_vs_zero_known_answers():
    t = np.zeros((1, 2, 4, 4))
    t[0, 0, 1, 1] = t[0, 1, 2, 2] = 1.
    assert map_loss_vs_zero(np.zeros_like(t), t, [[1, 1]]) == 1.0
    assert map_loss_vs_zero(t.copy(), t, [[1, 1]]) == 0.0
    half = t * 0.5
    assert map_loss_vs_zero(half, t, [[1, 1]]) == pytest.approx(0.25)
    # an invisible pair does not count
    bad = t.copy()
    bad[0, 1] = 1.
    assert map_loss_vs_zero(bad, t, [[1, 0]]) == 0.0
    assert np.isnan(map_loss_vs_zero(t, t, [[0, 0]]))
