# Copyright (c) mmppm contributors. All rights reserved.
from .episodic_pck import (DEFAULT_THRS, episodic_pck, episodic_pck_mask,
                           normalized_errors, pck_from_errors)
from .fit_diagnostics import map_loss_vs_zero, peak_contrast

__all__ = [
    'DEFAULT_THRS', 'episodic_pck', 'episodic_pck_mask', 'map_loss_vs_zero',
    'normalized_errors', 'pck_from_errors', 'peak_contrast'
]
