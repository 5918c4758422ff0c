# Copyright (c) mmppm contributors. All rights reserved.
"""Train a model with mmengine's Runner (OpenMMLab style).

Usage:
    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import argparse
import os
import sys

from mmengine.config import DictAction
from mmengine.runner import Runner

import mmppm  # noqa: F401  (registers mmppm modules into mmpose)
from mmppm.utils.base_keypoints import fill_num_base_keypoints
from mmppm.utils.config_checks import check_override_keys
from mmppm.utils.errors import UserError
from mmppm.utils.tool_helpers import (ToolError, check_fresh_work_dir,
                                      check_load_from, find_resume_checkpoint,
                                      prepare_tool_config, run_tool)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a pose model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If a checkpoint path is given, resume from it; if not, try to '
        'auto resume from the latest checkpoint in the work directory.')
    parser.add_argument('--amp',
                        action='store_true',
                        default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none',
                        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


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
        cfg.resume = True
        cfg.load_from, warnings = find_resume_checkpoint(cfg.work_dir)
        for warning in warnings:
            print(f'warning: {warning}', file=sys.stderr)
        if cfg.load_from is None and warnings:
            # mmengine would find the broken one again through
            # last_checkpoint and fail with a traceback
            raise ToolError(
                f'--resume: no checkpoint in {cfg.work_dir} can be loaded '
                f'(all {len(warnings)} are damaged, e.g. by a run killed '
                'while saving): move them away to start afresh, or pass a '
                'good one as --resume PATH')
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.cfg_options is not None:
        check_override_keys(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
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


if __name__ == '__main__':
    run_tool(main)
