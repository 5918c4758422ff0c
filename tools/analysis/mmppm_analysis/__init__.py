# Copyright (c) mmppm contributors. All rights reserved.
"""The analysis library beside the tools that use it (``tools/analysis/``,
each tool a thin CLI over a module here; imported as ``mmppm_analysis``,
docs/code_map.md, "Where things live"): the fit-diagnostics tool's
library (``fit_diagnostics``), per-category PCK tables
(``metrics_table``), training curves (``training_curve``), the split-cost
projection (``split_cost``), Phi's Jacobian (``phi_jacobian``), benchmark
statistics and models, the toy benchmark and its runs, the UNet-call
cost model (``unet_calls``); and what the tools share: timers, peak
memory, benchmark models (imported here)."""
from .bench_model import (AMP_DTYPES, add_sd_args, build_model,
                          resolve_pretrained, write_json)
from .profiling import PhaseTimer, peak_memory, sync

__all__ = [
    'AMP_DTYPES', 'PhaseTimer', 'add_sd_args', 'build_model', 'peak_memory',
    'resolve_pretrained', 'sync', 'write_json'
]
