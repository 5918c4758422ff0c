"""Fit diagnostics: support errors and "fitted" (the PCK rule), peak
contrast."""
import numpy as np

from mmppm.evaluation.functional import (fit_pck, fitted, peak_contrast,
                                         support_errors)


def test_peak_contrast_known_answers():
    maps = np.zeros((1, 2, 10, 10))
    maps[0, 0, 2, 3] = 0.9  # at the keypoint (x=3, y=2)
    maps[0, 0, 8, 8] = 0.4  # elsewhere
    maps[0, 1, 2, 3] = 0.2
    maps[0, 1, 7, 1] = 0.7  # a stronger peak elsewhere
    at_gt, elsewhere = peak_contrast(maps, np.array([[[3, 2], [3, 2]]]), 2)
    np.testing.assert_allclose(at_gt, [[0.9, 0.2]])
    np.testing.assert_allclose(elsewhere, [[0.4, 0.7]])


def test_support_errors_are_the_pck_rule_on_the_supports():
    gt = np.array([[[10., 10.], [50., 50.]], [[20., 20.], [60., 60.]]])
    pred = gt + np.array([[[3., 4.], [0., 0.]], [[20., 0.], [0., 100.]]])
    boxes = np.array([[0., 0., 50., 10.], [0., 0., 100., 100.]])
    vis = np.array([[1, 1], [1, 0]])  # kp 1 not on support 1: not counted
    err = support_errors(pred, gt, boxes, vis)
    np.testing.assert_allclose(err, [[0.1, np.nan], [0.2, np.nan]])
    # strict <, as PCK: an error of exactly 0.2 is not fitted at 0.2
    assert fitted(err, 0.2).tolist() == [[True, False], [False, False]]
    assert fitted(err, 0.25).tolist() == [[True, False], [True, False]]
    np.testing.assert_allclose(fit_pck(err, (0.15, 0.25)), [0.5, 1.0])
