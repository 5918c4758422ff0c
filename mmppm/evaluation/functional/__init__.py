# Copyright (c) mmppm contributors. All rights reserved.
from .episodic_pck import (DEFAULT_THRS, episodic_pck, episodic_pck_mask,
                           normalized_errors, pck_from_errors)
from .fit_diagnostics import (FIT_DIAGNOSTIC_KEYS, fit_errors, fit_pck, fitted,
                              peak_contrast, support_errors)
from .twins import kind_counts, swap_counts, twin_pairs

__all__ = [
    'DEFAULT_THRS', 'FIT_DIAGNOSTIC_KEYS', 'episodic_pck', 'episodic_pck_mask',
    'fit_errors', 'fit_pck', 'fitted', 'kind_counts', 'normalized_errors',
    'pck_from_errors', 'peak_contrast', 'support_errors', 'swap_counts',
    'twin_pairs'
]
