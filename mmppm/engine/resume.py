# Copyright (c) mmppm contributors. All rights reserved.
"""The one resume fallback of ``tools/train.py`` and
``projects/toy_sd/tools/train_toy_sd.py`` (docs/reliability.md)."""
import logging
from typing import Any

from mmengine.logging import print_log

from mmppm.utils.errors import ToolError
from .cli import find_resume_checkpoint


def resume_from_work_dir(cfg: Any) -> None:
    """Set ``cfg.resume`` and ``cfg.load_from`` for an automatic resume:
    the checkpoint ``last_checkpoint`` names if it loads, else the newest
    loadable ``*.pth`` of ``cfg.work_dir`` that holds the training state
    (each damaged or weights-only one skipped with a warning); no
    checkpoint at all starts afresh.

    Args:
        cfg (Config): A training config with ``work_dir``.

    Raises:
        ToolError: The work dir holds checkpoints and none loads
            (mmengine would load the broken one through
            ``last_checkpoint`` and fail with a traceback), or none that
            loads holds the optimizer and loop state (mmengine would resume
            a best checkpoint's weights with a fresh optimizer: another
            run, rc 0).
    """
    cfg.resume = True
    cfg.load_from, warnings, weights_only = find_resume_checkpoint(
        cfg.work_dir)
    for warning in warnings:
        print_log(warning, logger='current', level=logging.WARNING)
    if cfg.load_from is None and warnings:
        damaged = len(warnings) - weights_only
        if not weights_only:
            raise ToolError(
                f'--resume: no checkpoint in {cfg.work_dir} can be loaded '
                f'(all {len(warnings)} are damaged, e.g. by a run killed '
                'while saving): move them away to start afresh, or pass a '
                'good one as --resume PATH')
        raise ToolError(
            f'--resume: no checkpoint in {cfg.work_dir} holds the training '
            f'state to continue the run ({damaged} damaged, '
            f'{weights_only} weights only): a run resumed from '
            'weights alone would not be the interrupted one; move them away '
            'to start afresh, or start a new run from saved weights with '
            '--cfg-options load_from=PATH')
