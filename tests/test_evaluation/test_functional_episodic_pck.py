# Copyright (c) mmppm contributors. All rights reserved.
import numpy as np
from mmpose.evaluation.functional import keypoint_pck_accuracy

from mmppm.evaluation.functional import episodic_pck, episodic_pck_mask

THRS = (0.05, 0.1, 0.15, 0.2, 0.25)


def test_oracle_is_one():
    gt = np.random.RandomState(0).rand(7, 2) * 100
    pck = episodic_pck(gt, gt, np.ones(7), np.ones((2, 7)),
                       np.array([0, 0, 100, 50]), THRS)
    np.testing.assert_array_equal(pck, np.ones(5))


def test_matches_mmpose_per_query():
    rng = np.random.RandomState(1)
    for _ in range(200):
        k, s = rng.randint(3, 20), rng.randint(1, 6)
        gt = rng.rand(k, 2) * 200
        pred = gt + rng.randn(k, 2) * rng.uniform(1, 40)
        q_vis = (rng.rand(k) > 0.2).astype(np.float32)
        s_vis = (rng.rand(s, k) > 0.1).astype(np.float32)
        x1, y1 = rng.rand(2) * 50
        bbox = np.array(
            [x1, y1, x1 + rng.uniform(20, 150), y1 + rng.uniform(20, 150)])
        ours = episodic_pck(pred, gt, q_vis, s_vis, bbox, THRS)
        mask = episodic_pck_mask(q_vis, s_vis)
        norm = np.max(bbox[2:] - bbox[:2])
        for thr, value in zip(THRS, ours):
            _, ref, _ = keypoint_pck_accuracy(pred[None], gt[None], mask[None],
                                              thr, np.full((1, 2), norm))
            assert np.isclose(value, ref), (thr, value, ref)


def test_support_visibility_and_empty():
    gt = np.zeros((3, 2))
    pred = np.array([[0., 0.], [50., 0.], [0., 0.]])  # keypoint 1 wrong
    bbox = np.array([0, 0, 100, 100])
    q_vis = np.ones(3)
    # keypoint 1 invisible in one support: not counted -> 1.0
    s_vis = np.array([[1, 1, 1], [1, 0, 1]])
    assert episodic_pck(pred, gt, q_vis, s_vis, bbox, [0.2])[0] == 1.0
    assert np.isclose(
        episodic_pck(pred, gt, q_vis, np.ones((2, 3)), bbox, [0.2])[0], 2 / 3)
    # strict threshold: distance exactly thr * size is wrong
    pred2 = np.array([[20., 0.], [0., 0.], [0., 0.]])
    assert np.isclose(
        episodic_pck(pred2, gt, q_vis, np.ones(3), bbox, [0.2])[0], 2 / 3)
    # nothing counted -> 0
    assert episodic_pck(gt, gt, np.array([1, 0, 0]), np.array([[0, 1, 1]]),
                        bbox, THRS).tolist() == [0] * 5


def test_pck_from_normalised_errors_equals_episodic_pck():
    from mmppm.evaluation.functional import normalized_errors, pck_from_errors
    rng = np.random.default_rng(0)
    for _ in range(20):
        gt = rng.uniform(0, 100, (6, 2))
        pred = gt + rng.normal(0, 15, (6, 2))
        qv, sv = rng.integers(0, 2, 6), rng.integers(0, 2, (2, 6))
        bbox = np.array([0., 0., 80., rng.uniform(1, 120)])
        mask = (qv > 0) & (sv > 0).all(0)
        np.testing.assert_array_equal(
            pck_from_errors(normalized_errors(pred, gt, bbox), mask),
            episodic_pck(pred, gt, qv, sv, bbox))
    # known answer: errors 0.1 and 0.3, strict below the threshold
    assert pck_from_errors([0.1, 0.3, 9], [1, 1, 0],
                           [0.1, 0.2, 0.5]).tolist() == [0., 0.5, 1.]
    assert normalized_errors([[3., 4.]], [[0., 0.]],
                             [0, 0, 50, 10]).tolist() == [0.1]
    assert np.isinf(normalized_errors([[1., 1.]], [[0., 0.]], [0, 0, 0, 0]))
