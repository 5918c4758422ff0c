# Copyright (c) mmppm contributors. All rights reserved.
"""What a run of the web page hands back: COCO-style predictions and the
per-keypoint fit table (docs/webui.md)."""
from typing import List, Optional, Sequence

import numpy as np

from mmppm.evaluation.functional import fit_errors, fitted
from .support_set import SupportSet, category_entry


def predictions_to_coco(support: SupportSet,
                        query_names: Sequence[str],
                        query_sizes: Sequence[tuple],
                        keypoints: Sequence[np.ndarray],
                        scores: Sequence[np.ndarray],
                        fit: Optional[List[dict]] = None) -> dict:
    """Predictions as a COCO keypoint file (one annotation per query).

    Args:
        support (SupportSet): Gives the keypoint names and skeleton; its
            keypoints are kept under ``"support"`` (without images) so the
            run can be repeated with :func:`mmppm.apis.inference_cape`.
        query_names (Sequence[str]): File names of the queries.
        query_sizes (Sequence[tuple]): ``(w, h)`` per query.
        keypoints (Sequence[np.ndarray]): ``[K, 2]`` per query, image pixels.
        scores (Sequence[np.ndarray]): ``[K]`` per query.
        fit (list[dict], optional): :func:`fit_rows` output, kept under
            ``"fit"``.

    Returns:
        dict: ``images``, ``annotations`` (``keypoints`` as x, y, 2 triples,
        ``keypoint_scores``, ``score`` = their mean), ``categories``,
        ``support`` and ``fit``.
    """
    images, annotations = [], []
    for i, (name, (w, h), kpts, score) in enumerate(
            zip(query_names, query_sizes, keypoints, scores)):
        kpts = np.asarray(kpts, np.float64)
        score = np.asarray(score, np.float64)
        images.append(
            dict(id=i + 1, file_name=name, width=int(w), height=int(h)))
        triples = np.concatenate([kpts, np.full((len(kpts), 1), 2.)], 1)
        annotations.append(
            dict(
                id=i + 1,
                image_id=i + 1,
                category_id=1,
                keypoints=[float(v) for v in triples.reshape(-1)],
                keypoint_scores=[float(v) for v in score],
                score=float(score.mean()) if score.size else 0.,
                num_keypoints=len(kpts)))
    return dict(
        images=images,
        annotations=annotations,
        categories=[category_entry(support.names, support.skeleton)],
        support=support.to_coco(embed_images=False),
        fit=fit or [])


def fit_rows(result, names: Sequence[str], thr: float = 0.2) -> List[dict]:
    """Per keypoint: was it learnt on the supports?

    From a query result predicted with fit diagnostics: each prompt decoded
    on its own supports and scored as PCK scores a query
    (:func:`mmppm.evaluation.functional.support_errors`), "fitted" by the
    one rule of the metric and the fit-diagnostics tool
    (:func:`mmppm.evaluation.functional.fitted`: error below ``thr``, strict,
    on every support where the keypoint counts; docs/method.md, "Fit
    diagnostics").

    Args:
        result (PoseDataSample, optional): A query result with
            ``fit_keypoints`` in its metainfo; None gives no rows.
        names (Sequence[str]): Keypoint names.
        thr (float): PCK threshold. Defaults to 0.2.

    Returns:
        list[dict]: ``keypoint``, ``name``, ``error`` (worst counted
        support, fraction of the object size; None where it counts on none)
        and ``fitted`` (bool or None).
    """
    if result is None or 'fit_keypoints' not in result.metainfo:
        return []
    errors = fit_errors(result.metainfo)
    rows = []
    for k, name in enumerate(names):
        counted = ~np.isnan(errors[:, k])
        worst = float(errors[counted, k].max()) if counted.any() else None
        rows.append(
            dict(
                keypoint=k,
                name=name,
                error=worst,
                fitted=None if worst is None else bool(
                    fitted(errors[counted, k], thr).all())))
    return rows


def fit_table(rows: List[dict]) -> List[list]:
    """:func:`fit_rows` as table rows for the page."""
    return [[
        r['keypoint'], r['name'],
        '-' if r['error'] is None else f'{100 * r["error"]:.1f} %',
        '-' if r['fitted'] is None else ('yes' if r['fitted'] else 'NO')
    ] for r in rows]
