# Copyright (c) mmppm contributors. All rights reserved.
"""Plateau test for the per-episode prompt optimisation."""
from typing import Sequence


def loss_plateaued(losses: Sequence[float], patience: int,
                   min_rel_improvement: float) -> bool:
    """Whether the last ``patience`` losses failed to improve enough.

    The optimisation has plateaued when the best loss of the last
    ``patience`` steps is not below the best loss before them by more than
    ``min_rel_improvement`` of the latter (losses are non-negative).

    Args:
        losses (Sequence[float]): Loss of every step so far, oldest first.
        patience (int): Steps without enough improvement before stopping
            (>= 1).
        min_rel_improvement (float): Relative improvement that counts, in
            [0, 1).

    Returns:
        bool: False while fewer than ``patience + 1`` losses exist.

    Example:
        >>> loss_plateaued([1.0, 0.5, 0.499, 0.498], 2, 0.01)
        True
        >>> loss_plateaued([1.0, 0.5, 0.45, 0.498], 2, 0.01)
        False
    """
    if len(losses) <= patience:
        return False
    best_before = min(losses[:-patience])
    best_recent = min(losses[-patience:])
    return best_recent >= best_before * (1.0 - min_rel_improvement)
