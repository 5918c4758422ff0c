"""Fit diagnostics: map loss vs an all-zero map, peak contrast."""
import numpy as np
import pytest

from mmppm.evaluation.functional import map_loss_vs_zero, peak_contrast


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


def test_peak_contrast_known_answers():
    maps = np.zeros((1, 2, 10, 10))
    maps[0, 0, 2, 3] = 0.9  # at the keypoint (x=3, y=2)
    maps[0, 0, 8, 8] = 0.4  # elsewhere
    maps[0, 1, 2, 3] = 0.2
    maps[0, 1, 7, 1] = 0.7  # a stronger peak elsewhere
    at_gt, elsewhere = peak_contrast(maps, np.array([[[3, 2], [3, 2]]]), 2)
    np.testing.assert_allclose(at_gt, [[0.9, 0.2]])
    np.testing.assert_allclose(elsewhere, [[0.4, 0.7]])
