# Copyright (c) mmppm contributors. All rights reserved.
"""Test (and evaluate) a model with mmengine's Runner (OpenMMLab style).

Usage:
    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out FILE]
        [--show-dir DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

CHECKPOINT is optional: plain PPM has no trained weights. ``none`` or an
empty string also mean "no checkpoint" (for ``tools/dist_test.sh``). The
code is :mod:`mmppm.engine.testing`.
"""
from mmppm.engine.cli import run_tool
from mmppm.engine.testing import (NO_CHECKPOINT, SaveMetricHook, main,
                                  merge_args, parse_args)

__all__ = [
    'NO_CHECKPOINT', 'SaveMetricHook', 'main', 'merge_args', 'parse_args'
]

if __name__ == '__main__':
    run_tool(main)
