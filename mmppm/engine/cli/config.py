# Copyright (c) mmppm contributors. All rights reserved.
"""The config of ``tools/train.py`` and ``tools/test.py``: loaded, work dir
defaulted, the tool's arguments merged, checked (components, values, a
writable work dir) before anything is built."""
import os
import os.path as osp
import sys
from typing import Callable, Optional

from mmengine.config import Config

from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
from mmppm.compat.cpu_distributed import setup_cpu_distributed
from mmppm.utils.config_checks import check_config
from mmppm.utils.errors import ConfigError, ToolError
from .checks import require_file, writable_dir


def load_tool_config(config: str, work_dir: Optional[str],
                     launcher: str) -> Config:
    """Load a config and set ``launcher`` and ``work_dir``.

    ``work_dir`` priority: the CLI argument, then ``work_dir`` in the file,
    then ``./work_dirs/<config file name without extension>``.

    Args:
        config (str): Config file path.
        work_dir (str, optional): ``--work-dir`` from the command line.
        launcher (str): ``--launcher`` from the command line.

    Returns:
        Config: The loaded config.

    Raises:
        ToolError: If the config file does not exist.
    """
    if launcher == 'pytorch' and not all(
            k in os.environ for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')):
        raise ToolError(
            '--launcher pytorch needs the environment torchrun sets (RANK, '
            'WORLD_SIZE, LOCAL_RANK, MASTER_ADDR): start it with '
            'tools/dist_train.sh / tools/dist_test.sh (or torchrun), or drop '
            '--launcher for one process')
    cfg = Config.fromfile(require_file(config, 'config file'))
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def prepare_tool_config(args, merge_args: Callable) -> Config:
    """The common start of ``tools/train.py`` and ``tools/test.py``.

    Allow-lists mmengine checkpoint contents for ``torch.load``
    (:func:`~mmppm.compat.checkpoint_compat.register_checkpoint_safe_globals`),
    loads the config, applies the tool's ``merge_args(cfg, args)``, and
    prepares CPU distributed runs
    (:func:`~mmppm.compat.cpu_distributed.setup_cpu_distributed`). The
    config is checked by the check every door runs
    (:func:`~mmppm.utils.config_checks.check_config`) before anything is
    built. A :class:`ToolError` or ``ConfigError`` exits
    with a one-line ``error: ...`` message.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config``,
            ``work_dir`` and ``launcher``.
        merge_args (Callable): ``merge_args(cfg, args) -> cfg``.

    Returns:
        Config: The config to build the Runner from.
    """
    register_checkpoint_safe_globals()
    try:
        cfg = load_tool_config(args.config, args.work_dir, args.launcher)
        cfg = merge_args(cfg, args)
        check_config(cfg)
        writable_dir(cfg.work_dir, 'work_dir (--work-dir)')
    except (ToolError, ConfigError) as e:
        # one line, from the first process only
        sys.exit(f'error: {e}' if os.environ.get('RANK', '0') == '0' else 1)
    setup_cpu_distributed(cfg, args.launcher)
    return cfg
