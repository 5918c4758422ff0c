# Copyright (c) mmppm contributors. All rights reserved.
"""Left/right twins: which keypoints mirror each other, and how often a
prediction lands on the twin instead of the keypoint (the swap rate)."""
import re
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .episodic_pck import episodic_pck_mask, normalized_errors

_SIDES = {'left': 'right', 'right': 'left', 'l': 'r', 'r': 'l'}


def _words(name: str) -> List[str]:
    """Lower-case words of a name: runs of letters split at camel case
    (``'forelegL1'`` -> ``foreleg l 1``), and runs of digits."""
    return [
        w.lower()
        for w in re.findall(r'[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+', str(name))
    ]


def _side_swapped(name: str) -> Tuple[str, bool]:
    """The name's words with every side word (``left`` / ``right``, or a
    single ``L`` / ``R``) swapped, and whether it had one."""
    words = _words(name)
    swapped = [_SIDES.get(w, w) for w in words]
    return ' '.join(swapped), swapped != words


def twin_pairs(names: Sequence[str]) -> List[Tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of keypoints whose names differ
    only by their side words: ``left`` / ``right`` (``'left_eye'`` /
    ``'right_eye'``) or a single ``L`` / ``R`` (``'forelegL1'`` /
    ``'forelegR1'``), case and separators ignored: MP-100's and the
    look-alike toy world's names.

    Args:
        names (Sequence[str]): A category's keypoint names.

    Returns:
        list[tuple[int, int]]: The twin pairs, by their first index.
    """
    index = {}
    for i, name in enumerate(names):
        index.setdefault(' '.join(_words(name)), i)
    pairs = []
    for i, name in enumerate(names):
        mirror, sided = _side_swapped(name)
        j = index.get(mirror)
        if sided and j is not None and j > i:
            pairs.append((i, j))
    return pairs


def swap_counts(pred: np.ndarray, gt: np.ndarray, query_visible: np.ndarray,
                support_visible: np.ndarray, bbox: np.ndarray,
                pairs: Sequence[Tuple[int,
                                      int]], thr: float) -> Tuple[int, int]:
    """Swapped and counted twin keypoints of one query.

    A twin keypoint counts where PCK counts it (visible in the query and in
    every support) and its twin is visible in the query; it is *swapped*
    where its prediction is within ``thr`` (PCK's normalised distance) of
    its twin's ground truth and not within ``thr`` of its own; *correct*
    where it is within ``thr`` of its own (PCK's test). A prompt that
    cannot tell the twins apart finds one of them: correct + swapped.

    Args:
        pred (np.ndarray): Predictions, [K, 2] (image pixels).
        gt (np.ndarray): Ground truth, [K, 2].
        query_visible (np.ndarray): [K].
        support_visible (np.ndarray): [S, K].
        bbox (np.ndarray): The query's GT bbox ``[x1, y1, x2, y2]``.
        pairs (Sequence[tuple[int, int]]): :func:`twin_pairs`.
        thr (float): PCK threshold, e.g. 0.2.

    Returns:
        tuple[int, int, int]: ``(swapped, counted, correct)``.
    """
    if not pairs:
        return 0, 0, 0
    mask = episodic_pck_mask(query_visible, support_visible)
    qvis = np.asarray(query_visible).reshape(-1) > 0
    own = normalized_errors(pred, gt, bbox)
    twin_of = np.arange(len(own))
    for i, j in pairs:
        twin_of[i], twin_of[j] = j, i
    keys = np.array(sorted({k for pair in pairs for k in pair}))
    to_twin = normalized_errors(
        np.asarray(pred).reshape(-1, 2)[keys],
        np.asarray(gt).reshape(-1, 2)[twin_of[keys]], bbox)
    counted = mask[keys] & qvis[twin_of[keys]]
    correct = counted & (own[keys] < thr)
    swapped = counted & (to_twin < thr) & ~correct
    return int(swapped.sum()), int(counted.sum()), int(correct.sum())


def kind_counts(correct: np.ndarray, mask: np.ndarray,
                kinds: Sequence[str]) -> Dict[str, List[int]]:
    """Correct and counted keypoints of one query per kind of keypoint
    (the look-alike world's ``keypoint_kinds``): ``{kind: [correct,
    counted]}`` for every kind present in ``kinds``."""
    correct = np.asarray(correct, dtype=bool).reshape(-1)
    mask = np.asarray(mask, dtype=bool).reshape(-1)
    out: Dict[str, List[int]] = {}
    for k, kind in enumerate(kinds):
        counts = out.setdefault(str(kind), [0, 0])
        counts[0] += int(mask[k] and correct[k])
        counts[1] += int(mask[k])
    return out
