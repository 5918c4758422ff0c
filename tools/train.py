# Copyright (c) mmppm contributors. All rights reserved.
"""Train a model with mmengine's Runner (OpenMMLab style).

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The code is :mod:`mmppm.engine.training` (its CLI shared with
``tools/test.py`` through :mod:`mmppm.engine.cli`).
"""
from mmppm.engine.cli import run_tool
from mmppm.engine.training import main, merge_args, parse_args

__all__ = ['main', 'merge_args', 'parse_args']

if __name__ == '__main__':
    run_tool(main)
