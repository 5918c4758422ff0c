# Copyright (c) mmppm contributors. All rights reserved.
"""The test entry point of ``tools/test.py`` (and ``tools/run_toy.py``).

Usage:
    python tools/test.py CONFIG [CHECKPOINT] [--work-dir DIR] [--out FILE]
        [--show-dir DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm,mpi}]

CHECKPOINT is optional: plain PPM has no trained weights. ``none`` or an
empty string also mean "no checkpoint" (for ``tools/dist_test.sh``).
"""
import mmengine
from mmengine.hooks import Hook
from mmengine.runner import Runner

import mmppm  # noqa: F401  (registers mmppm modules into mmpose)
import mmppm.engine  # noqa: F401  (TestTimeDataParallel, loops)
from mmppm.utils.atomic_io import atomic_write
from mmppm.utils.config_checks import merge_cfg_options
from .cli import (add_common_args, check_load_from, finish_args,
                  prepare_tool_config, tool_parser, writable_file)

NO_CHECKPOINT = ('', 'none', 'None')


def parse_args(argv=None):
    parser = tool_parser('MMPose (mmppm) test (and eval) a model',
                         'test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file (optional; "none" or "" for no checkpoint)')
    parser.add_argument('--out', help='the file to save metric results.')
    parser.add_argument(
        '--show-dir',
        help='save pictures of the first episodes (supports, queries, '
        'attention maps) there with EpisodeVisualizationHook; a relative '
        'path is inside {work_dir}/{timestamp}/ (as in mmpose).')
    parser.add_argument(
        '--allow-train-categories',
        action='store_true',
        help='test even where a test category is a training category of '
        'the checkpoint (a deliberate experiment; refused by default)')
    add_common_args(parser)
    args = finish_args(parser.parse_args(argv))
    if args.checkpoint in NO_CHECKPOINT:
        args.checkpoint = None
    return args


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    if args.checkpoint is not None:
        cfg.load_from = args.checkpoint
    if args.allow_train_categories:
        for hook in cfg.get('custom_hooks', None) or []:
            if hook.get('type') == 'CategoryHygieneHook':
                hook['allow_train_categories'] = True
    if args.show_dir is not None:
        cfg.show_dir = args.show_dir
        # Pictures of the first episodes (relative dirs: in
        # {work_dir}/{timestamp}/, as in mmpose).
        cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
            dict(type='EpisodeVisualizationHook', out_dir=args.show_dir)
        ]
    if args.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
        # Processes test different episodes: no gradient sync, no DDP.
        # Scoped name: Runner.wrap_model looks it up in mmengine's root
        # registry.
        cfg.model_wrapper_cfg = dict(type='mmpose.TestTimeDataParallel')
    merge_cfg_options(cfg, args.cfg_options)
    check_load_from(cfg)
    if args.out:  # before any episode, not after the last one
        writable_file(args.out, '--out')
    return cfg


class SaveMetricHook(Hook):
    """Dumps the test metrics to a file."""

    def __init__(self, out_file: str):
        self.out_file = out_file

    def after_test_epoch(self, runner, metrics=None):
        if metrics is not None:  # written whole or not at all
            atomic_write(self.out_file,
                         mmengine.dump(metrics, file_format=self._format()))

    def _format(self) -> str:
        """mmengine's format for the file's extension (json by default)."""
        ext = self.out_file.rsplit('.', 1)[-1].lower()
        return {
            'yml': 'yaml'
        }.get(ext, ext) if ext in ('json', 'yaml', 'yml') else 'json'


def main(argv=None):
    args = parse_args(argv)
    cfg = prepare_tool_config(args, merge_args)
    runner = Runner.from_cfg(cfg)
    if args.out:
        runner.register_hook(SaveMetricHook(args.out), 'LOWEST')
    runner.test()
