# Copyright (c) mmppm contributors. All rights reserved.
"""The command-line arguments ``tools/train.py`` and ``tools/test.py``
share (OpenMMLab's tool templates: config, ``--work-dir``,
``--cfg-options``, ``--launcher``, ``--local-rank``)."""
import argparse
import os

from mmengine.config import DictAction

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` (``key=value`` pairs, values parsed as
    numbers, lists, tuples, booleans or strings), with a malformed pair --
    no ``=``, an unclosed bracket, ``dict(...)`` -- one argparse error line
    naming the pair instead of a ValueError, AssertionError, RecursionError
    or TypeError traceback."""

    def __call__(self, parser, namespace, values, option_string=None):
        for value in values:
            key, eq, _ = value.partition('=')
            problem = None if eq and key.strip() else 'no key=value'
            if problem is None:
                try:
                    super().__call__(parser, argparse.Namespace(), [value],
                                     option_string)
                except (ValueError, AssertionError, RecursionError, TypeError,
                        SyntaxError, IndexError) as e:
                    problem = f'{type(e).__name__}: {str(e)[:80]}'
            if problem:
                parser.error(
                    f'{option_string} {value!r} is malformed ({problem}): '
                    'write key=value, a list as key="[a,b]", a tuple as '
                    'key="(a,b)"')
        super().__call__(parser, namespace, values, option_string)


def tool_parser(description: str, config_help: str) -> argparse.ArgumentParser:
    """A parser with the config file and ``--work-dir``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument(
        '--work-dir', help='the folder of logs, checkpoints and results')
    return parser


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--cfg-options``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        default={},
        help='override settings of the config, key=value (e.g. '
        'model.backbone.pretrained=/data/sd15 test_dataloader.dataset.'
        'shots=5); a list as key="[a,b]". A key that does not extend an '
        'entry of the config is an error naming the nearest one.')
    parser.add_argument(
        '--launcher', choices=LAUNCHERS, default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    """``LOCAL_RANK`` from ``--local-rank`` where the launcher set none."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
