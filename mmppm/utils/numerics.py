# Copyright (c) mmppm contributors. All rights reserved.
"""Guards against silently optimising on NaN/Inf."""
from typing import Union

import torch


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
