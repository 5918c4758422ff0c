# Copyright (c) mmppm contributors. All rights reserved.
"""What ``tools/train.py`` and ``tools/test.py`` share: config loading,
work-dir defaulting and checks that turn into one-line errors."""
import os.path as osp
import sys
from typing import Callable, Optional

from mmengine.config import Config


class ToolError(Exception):
    """A user error a tool reports in one line (no traceback)."""


def _is_local_path(path: str) -> bool:
    return '://' not in path


def require_file(path: str, what: str) -> str:
    """Return ``path`` if it is an existing file (or a URL); raise otherwise.

    Args:
        path (str): A local path or a URL (not checked).
        what (str): What the file is, for the message (``'config file'``).

    Returns:
        str: ``path``.

    Raises:
        ToolError: If a local ``path`` is not a file.
    """
    if _is_local_path(path) and not osp.isfile(osp.expanduser(path)):
        raise ToolError(f'{what} not found: {path}')
    return path


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
    cfg = Config.fromfile(require_file(config, 'config file'))
    cfg.launcher = launcher
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    return cfg


def check_load_from(cfg: Config) -> None:
    """Raise a :class:`ToolError` if ``cfg.load_from`` names a missing local
    file (mmengine would fail only after building everything)."""
    load_from = cfg.get('load_from')
    if load_from:
        require_file(load_from, 'checkpoint')


def prepare_tool_config(args, merge_args: Callable) -> Config:
    """The common start of ``tools/train.py`` and ``tools/test.py``.

    Allow-lists mmengine checkpoint contents for ``torch.load``
    (:func:`~mmppm.utils.checkpoint_compat.register_checkpoint_safe_globals`),
    loads the config, applies the tool's ``merge_args(cfg, args)``, and
    prepares CPU distributed runs
    (:func:`~mmppm.utils.cpu_distributed.setup_cpu_distributed`). A
    :class:`ToolError` exits with a one-line ``error: ...`` message.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config``,
            ``work_dir`` and ``launcher``.
        merge_args (Callable): ``merge_args(cfg, args) -> cfg``.

    Returns:
        Config: The config to build the Runner from.
    """
    from .checkpoint_compat import register_checkpoint_safe_globals
    from .cpu_distributed import setup_cpu_distributed
    register_checkpoint_safe_globals()
    try:
        cfg = load_tool_config(args.config, args.work_dir, args.launcher)
        cfg = merge_args(cfg, args)
    except ToolError as e:
        sys.exit(f'error: {e}')
    setup_cpu_distributed(cfg, args.launcher)
    return cfg
