# Copyright (c) mmppm contributors. All rights reserved.
"""The prompt fit of PPM (paper Eq. 4), as a component of its own."""
from .prompt_fitter import FitResult, PromptFitter, check_early_stop
from .reference import naive_episode
from .warm_start_fitter import WarmStartFitter

__all__ = [
    'FitResult', 'PromptFitter', 'WarmStartFitter', 'check_early_stop',
    'naive_episode'
]
