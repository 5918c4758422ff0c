# Copyright (c) mmppm contributors. All rights reserved.
"""The train entry point of ``tools/train.py``.

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
from mmengine.runner import Runner

import mmppm  # noqa: F401  (registers mmppm modules into mmpose)
from mmppm.datasets.base_keypoints import fill_num_base_keypoints
from mmppm.utils.config_checks import merge_cfg_options
from mmppm.utils.errors import ToolError, UserError
from .cli import (add_common_args, check_fresh_work_dir, check_load_from,
                  finish_args, prepare_tool_config, tool_parser)
from .hooks.atomic_checkpoint_hook import use_atomic_checkpoints
from .resume import resume_from_work_dir


def parse_args(argv=None):
    parser = tool_parser('Train a model (CPT) with mmengine\'s Runner',
                         'train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If a checkpoint path is given, resume from it; if not, try to '
        'auto resume from the latest checkpoint in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic-mixed-precision training')
    add_common_args(parser)
    return finish_args(parser.parse_args(argv))


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    if args.amp:
        from mmengine.optim import AmpOptimWrapper, OptimWrapper
        optim_wrapper = cfg.optim_wrapper.get('type', OptimWrapper)
        if optim_wrapper not in (OptimWrapper, AmpOptimWrapper, 'OptimWrapper',
                                 'AmpOptimWrapper'):
            raise ToolError('--amp is not supported with the custom optimizer '
                            f'wrapper type {optim_wrapper}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        resume_from_work_dir(cfg)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    merge_cfg_options(cfg, args.cfg_options)
    use_atomic_checkpoints(cfg)
    if not cfg.get('resume'):
        check_fresh_work_dir(cfg.work_dir)
    check_load_from(cfg)
    try:  # CPT: K base prompts = keypoints of the train file
        fill_num_base_keypoints(cfg)
    except UserError as e:
        raise ToolError(str(e)) from None
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = prepare_tool_config(args, merge_args)
    runner = Runner.from_cfg(cfg)
    runner.train()
