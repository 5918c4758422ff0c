# Copyright (c) mmppm contributors. All rights reserved.
"""What the analysis tools share: timers, peak memory, benchmark models."""
from .bench_model import (AMP_DTYPES, add_sd_args, build_model,
                          resolve_pretrained, write_json)
from .profiling import PhaseTimer, peak_memory, sync

__all__ = [
    'AMP_DTYPES', 'PhaseTimer', 'add_sd_args', 'build_model', 'peak_memory',
    'resolve_pretrained', 'sync', 'write_json'
]
