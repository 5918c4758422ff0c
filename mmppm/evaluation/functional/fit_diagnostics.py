# Copyright (c) mmppm contributors. All rights reserved.
"""Did the prompts fit their supports? (docs/method.md, "Fit diagnostics")

Pure numpy functions on the learned prompts' predictions of the support
images they were fitted on, and on their maps there: the **fit
diagnostics**, the fit PCK that every test run reports beside the query
PCK (``test_cfg.fit_diagnostics``, :class:`~mmppm.evaluation.EpisodicPCK`).
The **fit-diagnostics tool** (``tools/analysis/fit_diagnostics.py``, its
library ``tools/analysis/mmppm_analysis/fit_diagnostics.py``) runs them
outside the Runner, on oracle models too; the
``test_cfg.predict_supports`` flag is neither (it makes the model predict
the supports instead of the queries).
"""
from typing import Mapping, Sequence

import numpy as np

from mmppm.utils.numerics import to_numpy
from .episodic_pck import (DEFAULT_THRS, episodic_pck_mask, normalized_errors,
                           pck_from_errors)


def support_errors(pred: np.ndarray, gt: np.ndarray, bboxes: np.ndarray,
                   visible: np.ndarray) -> np.ndarray:
    """Each support keypoint's error as PCK measures it, ``[S, K]``.

    The supports are predicted by the prompts fitted on them and scored as
    queries of their own episode: a keypoint counts where it is visible in
    that support and in every support (:func:`episodic_pck_mask`); its
    error is the distance over max(w, h) of that support's GT box
    (:func:`normalized_errors`). The one definition of "fitted" follows:
    :func:`fitted`.

    Args:
        pred (np.ndarray): ``[S, K, 2]`` predictions, image pixels.
        gt (np.ndarray): ``[S, K, 2]`` ground truth.
        bboxes (np.ndarray): ``[S, 4]`` GT boxes (xyxy).
        visible (np.ndarray): ``[S, K]`` visibility.

    Returns:
        np.ndarray: float64, NaN where the keypoint does not count.
    """
    pred = np.asarray(pred, np.float64)
    vis = np.asarray(visible).reshape(pred.shape[:2])
    out = np.full(pred.shape[:2], np.nan)
    for s in range(pred.shape[0]):
        counted = episodic_pck_mask(vis[s], vis)
        err = normalized_errors(pred[s], np.asarray(gt)[s], bboxes[s])
        out[s] = np.where(counted, err, np.nan)
    return out


#: The metainfo keys a prediction's fit diagnostics travel in
#: (:meth:`PPMEstimator.predict_episode`), in :func:`support_errors` order.
FIT_DIAGNOSTIC_KEYS = ('fit_keypoints', 'support_keypoints', 'support_bboxes',
                       'support_keypoints_visible')


def fit_errors(meta: Mapping) -> np.ndarray:
    """:func:`support_errors` of a query prediction's fit diagnostics
    (its metainfo, or the dict the metric receives), ``[S, K]``."""
    return support_errors(*(to_numpy(meta[k]) for k in FIT_DIAGNOSTIC_KEYS))


def fitted(errors: np.ndarray, thr: float = 0.2) -> np.ndarray:
    """Whether each support keypoint's prompt found it: the PCK rule,
    error strictly below ``thr`` (False where it does not count)."""
    errors = np.asarray(errors, np.float64)
    with np.errstate(invalid='ignore'):
        return np.where(np.isnan(errors), False, errors < thr)


def fit_pck(errors: np.ndarray,
            thrs: Sequence[float] = DEFAULT_THRS) -> np.ndarray:
    """The fit PCK of an episode, ``[T]``: the mean over its supports of
    each one's PCK (:func:`pck_from_errors`) at the thresholds."""
    errors = np.asarray(errors, np.float64)
    return np.mean([pck_from_errors(e, ~np.isnan(e), thrs) for e in errors],
                   axis=0)


def peak_contrast(maps: np.ndarray, keypoints: np.ndarray,
                  radius: float) -> tuple:
    """Map value at the ground truth vs the best value elsewhere.

    Args:
        maps (np.ndarray): ``[S, K, H, W]``.
        keypoints (np.ndarray): ``[S, K, 2]`` ground truth ``(x, y)`` in map
            pixels.
        radius (float): Pixels within this distance of the keypoint are
            not "elsewhere".

    Returns:
        tuple[np.ndarray, np.ndarray]: ``at_gt`` and ``best_elsewhere``,
        both ``[S, K]``. A fit is sound where ``at_gt > best_elsewhere``.
    """
    maps = np.asarray(maps, np.float64)
    s_num, k_num, h, w = maps.shape
    kp = np.asarray(keypoints, np.float64).reshape(s_num, k_num, 2)
    ys, xs = np.mgrid[0:h, 0:w]
    at_gt = np.zeros((s_num, k_num))
    elsewhere = np.zeros((s_num, k_num))
    for s in range(s_num):
        for k in range(k_num):
            x, y = kp[s, k]
            xi = int(np.clip(np.round(x), 0, w - 1))
            yi = int(np.clip(np.round(y), 0, h - 1))
            at_gt[s, k] = maps[s, k, yi, xi]
            far = (xs - x)**2 + (ys - y)**2 > radius**2
            elsewhere[s, k] = maps[s, k][far].max() if far.any() else 0.
    return at_gt, elsewhere
