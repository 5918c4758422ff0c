# Copyright (c) mmppm contributors. All rights reserved.
"""PCK of one query of a few-shot episode (MP-100 protocol)."""
from typing import Sequence

import numpy as np

DEFAULT_THRS = (0.05, 0.10, 0.15, 0.20, 0.25)


def episodic_pck_mask(query_visible: np.ndarray,
                      support_visible: np.ndarray) -> np.ndarray:
    """Keypoints that count: visible in the query and in every support.

    Args:
        query_visible (np.ndarray): Visibility in the query, [K].
        support_visible (np.ndarray): Visibility in the supports, [S, K]
            (or [K] for one support).

    Returns:
        np.ndarray: Boolean mask, [K].
    """
    query_visible = np.asarray(query_visible).reshape(-1)
    support_visible = np.asarray(support_visible).reshape(
        -1, query_visible.shape[0])  # [S, K]
    return (query_visible > 0) & (support_visible > 0).all(axis=0)


def episodic_pck(pred: np.ndarray,
                 gt: np.ndarray,
                 query_visible: np.ndarray,
                 support_visible: np.ndarray,
                 bbox: np.ndarray,
                 thrs: Sequence[float] = DEFAULT_THRS) -> np.ndarray:
    """PCK of one query at several thresholds.

    A keypoint counts where it is visible (v > 0) in the query and in every
    support; it is correct where ``||pred - gt|| / max(w, h) < thr``
    (strict), with w, h the size of the query's (clipped) GT bbox. PCK is
    correct / counted, and 0 where nothing counts (or the bbox is empty).
    This equals mmpose's ``keypoint_pck_accuracy`` (its ``avg_acc``) on the
    single query with ``norm_factor = [[max(w, h)] * 2]``.

    Args:
        pred (np.ndarray): Predicted keypoints in original image pixels,
            [K, 2].
        gt (np.ndarray): Ground-truth keypoints, [K, 2].
        query_visible (np.ndarray): Query visibility, [K].
        support_visible (np.ndarray): Support visibility, [S, K].
        bbox (np.ndarray): The query's GT bbox ``[x1, y1, x2, y2]``.
        thrs (Sequence[float]): Thresholds. Defaults to
            (0.05, 0.10, 0.15, 0.20, 0.25).

    Returns:
        np.ndarray: PCK at each threshold, [len(thrs)] (float64).
    """
    mask = episodic_pck_mask(query_visible, support_visible)
    return pck_from_errors(normalized_errors(pred, gt, bbox), mask, thrs)


def normalized_errors(pred: np.ndarray, gt: np.ndarray,
                      bbox: np.ndarray) -> np.ndarray:
    """``||pred - gt|| / max(w, h)`` per keypoint, [K] (float64), with w, h
    the size of the GT bbox ``[x1, y1, x2, y2]``; infinite where the bbox is
    empty (nothing is then correct). The distance PCK thresholds."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 2)
    bbox = np.asarray(bbox, dtype=np.float64).reshape(-1)
    norm = max(bbox[2] - bbox[0], bbox[3] - bbox[1])
    if not norm > 0:
        return np.full(len(gt), np.inf)
    return np.linalg.norm(pred - gt, axis=-1) / norm


def pck_from_errors(errors: np.ndarray,
                    mask: np.ndarray,
                    thrs: Sequence[float] = DEFAULT_THRS) -> np.ndarray:
    """PCK at each threshold from normalised errors [K] and the keypoints
    that count [K]: the fraction of counted errors strictly below the
    threshold, 0 where nothing counts. [len(thrs)] (float64)."""
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    mask = np.asarray(mask, dtype=bool).reshape(-1)
    thrs = np.asarray(thrs, dtype=np.float64)
    if not mask.any():
        return np.zeros(len(thrs))
    return (errors[mask][None, :] < thrs[:, None]).mean(axis=1)
