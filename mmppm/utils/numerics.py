# Copyright (c) mmppm contributors. All rights reserved.
"""Numeric helpers: a guard against optimising on NaN/Inf, tensors to numpy,
what counts as an integer or a number in a config value or a JSON field
(the one definition: ``True`` is a Python ``int`` but never a count)."""
import math
import os
from typing import Union

import numpy as np
import torch

from .errors import UserError


def check_finite(loss: Union[torch.Tensor, float], what: str) -> None:
    """Raise if ``loss`` holds a NaN or an infinity.

    Args:
        loss (torch.Tensor | float): A loss value (any shape).
        what (str): What the loss belongs to, named in the error, e.g.
            ``'prompt optimisation, episode ep012, step 17'``.

    Raises:
        FloatingPointError: If any element of ``loss`` is not finite.
    """
    value = torch.as_tensor(loss).detach()
    if bool(torch.isfinite(value).all()):
        return
    shown = value.item() if value.numel() == 1 else (
        f'{int((~torch.isfinite(value)).sum())} non-finite of '
        f'{value.numel()} elements')
    raise FloatingPointError(f'Non-finite loss ({shown}) in {what}')


def to_numpy(x) -> np.ndarray:
    """A numpy array of a tensor (detached, on the CPU) or array-like."""
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def is_int(value) -> bool:
    """An integer config value (Python or numpy; ``True`` is not one)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A real number (Python or numpy; ``True`` is not one), finite or not:
    a config value, a JSON field (``"3"`` and ``null`` are not numbers)."""
    return isinstance(value,
                      (int, float, np.number)) and not isinstance(value, bool)


def is_finite_number(value) -> bool:
    """A finite real config value (Python or numpy; ``True`` is not one)."""
    return is_number(value) and math.isfinite(float(value))


def env_limit(name: str, default: int) -> int:
    """A limit from the environment variable ``name`` (an integer, at
    least 1), or ``default`` where it is not set; anything else is a
    ``UserError`` naming the variable (the limits of docs/reliability.md:
    image pixels, keypoints per category, support-set pixels)."""
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return max(1, int(value))
    except ValueError:
        raise UserError(f'{name} must be an integer, got {value!r}') from None
