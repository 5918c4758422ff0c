# Copyright (c) mmppm contributors. All rights reserved.
"""The command-line plumbing of ``tools/``: the arguments ``tools/train.py``
and ``tools/test.py`` share (:mod:`.args`), their config (:mod:`.config`),
the checks every tool runs before its work (:mod:`.checks`),
:func:`run_tool`, which ends a tool on a user error with one line
(:mod:`.run`), the range-checked ``argparse`` types of every tool
(:mod:`.arg_types`) and the one-line ``torchrun`` of ``tools/dist_*.sh``
(:mod:`.dist_run`, run as ``python -m mmppm.engine.cli.dist_run``). The
entries themselves are :mod:`mmppm.engine.training` and
:mod:`mmppm.engine.testing`."""
from .args import LAUNCHERS, add_common_args, finish_args, tool_parser
from .checks import (check_fresh_work_dir, check_load_from, checkpoint_problem,
                     find_resume_checkpoint, require_file,
                     work_dir_checkpoints, writable_dir, writable_file)
from .config import load_tool_config, prepare_tool_config
from .run import end_distributed, run_tool, user_errors, user_message

__all__ = [
    'LAUNCHERS', 'add_common_args', 'check_fresh_work_dir', 'check_load_from',
    'checkpoint_problem', 'end_distributed', 'find_resume_checkpoint',
    'finish_args', 'load_tool_config', 'prepare_tool_config', 'require_file',
    'run_tool', 'tool_parser', 'user_errors', 'user_message',
    'work_dir_checkpoints', 'writable_dir', 'writable_file'
]
