# Copyright (c) mmppm contributors. All rights reserved.
"""What ``tools/train.py`` and ``tools/test.py`` share: config loading,
work-dir defaulting and checks that turn into one-line errors."""
import glob
import os
import os.path as osp
import re
import sys
from typing import Callable, List, Optional, Tuple

from mmengine.config import Config

from .errors import ConfigError, ToolError, UserError, first_line


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


def writable_dir(path: str, what: str) -> str:
    """Create ``path`` if needed and check that files can be written in it,
    before any work starts (not after an hour of it).

    Args:
        path (str): A folder.
        what (str): What it is, for the message (``'--work-dir'``).

    Returns:
        str: ``path``.

    Raises:
        ToolError: It names a file, cannot be created or is read-only.
    """
    import tempfile
    path = osp.expanduser(str(path))
    if osp.exists(path) and not osp.isdir(path):
        raise ToolError(f'{what} {path} is a file, not a folder: choose '
                        'another path')
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix='.mmppm_write_'):
            pass
    except OSError as e:
        raise ToolError(f'{what} {path} cannot be written ({e.strerror or e}'
                        '): choose a writable folder') from None
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


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a loadable checkpoint, or None if it is.

    Loads it the way mmengine will (``torch.load`` with ``weights_only``
    and mmppm's allow-list: nothing in it can run code).
    """
    import torch
    from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
    register_checkpoint_safe_globals()
    try:
        torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # truncated, random bytes, not a checkpoint
        return f'{type(e).__name__}: {first_line(e)[:120]}'
    return None


def check_load_from(cfg: Config) -> None:
    """Raise a :class:`ToolError` if ``cfg.load_from`` names a missing local
    file or one that is not a checkpoint (mmengine would fail only after
    building everything, with an unpickling traceback)."""
    load_from = cfg.get('load_from')
    if load_from:
        require_file(load_from, 'checkpoint')
        if _is_local_path(load_from):
            problem = checkpoint_problem(osp.expanduser(load_from))
            if problem:
                raise ToolError(f'not a checkpoint: {load_from} ({problem})')


def work_dir_checkpoints(work_dir: str) -> List[str]:
    """Checkpoints (``*.pth``) and ``last_checkpoint`` in a work dir."""
    found = glob.glob(osp.join(work_dir, '*.pth'))
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        found.append(osp.join(work_dir, 'last_checkpoint'))
    return sorted(found)


def check_fresh_work_dir(work_dir: str) -> None:
    """Refuse to start a new training run over an earlier run's
    checkpoints (mmengine would overwrite ``iter_N.pth`` and delete older
    ones by ``max_keep_ckpts``)."""
    found = work_dir_checkpoints(work_dir)
    if found:
        names = ', '.join(osp.basename(f) for f in found[:4])
        raise ToolError(
            f'work dir {work_dir} holds checkpoints of an earlier run '
            f'({names}{", ..." if len(found) > 4 else ""}): add --resume to '
            'continue it, or choose another --work-dir')


def _iteration(path: str) -> int:
    match = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(match.group(1)) if match else -1


def find_resume_checkpoint(work_dir: str) -> Tuple[Optional[str], List[str]]:
    """The checkpoint ``--resume`` (auto) should use, and warnings.

    The one ``last_checkpoint`` names if it loads; otherwise the newest
    loadable ``*.pth`` of the work dir (a run killed while saving leaves a
    truncated latest checkpoint).

    Returns:
        tuple: The path (None if the work dir has no checkpoint) and the
        warnings to show.
    """
    last_file = osp.join(work_dir, 'last_checkpoint')
    last = None
    if osp.isfile(last_file):
        with open(last_file, encoding='utf-8') as f:
            last = f.read().strip()
        if last and not osp.isabs(last) and not osp.isfile(last):
            last = osp.join(work_dir, osp.basename(last))
    candidates = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                        key=_iteration, reverse=True)
    if last:
        candidates = [last] + [c for c in candidates
                               if osp.abspath(c) != osp.abspath(last)]
    warnings = []
    for path in candidates:
        problem = checkpoint_problem(path) if osp.isfile(path) else 'missing'
        if problem is None:
            return path, warnings
        warnings.append(f'checkpoint {path} cannot be loaded ({problem}); '
                        'trying the previous one')
    return None, warnings


def user_errors() -> tuple:
    """Errors a user can cause, which tools print as one line: the
    project's :class:`~mmppm.utils.errors.UserError` (with ``ToolError``,
    ``ConfigError``, ``SDWeightsNotFoundError``) and a non-finite loss
    (``check_finite``: the lr or the data). A plain ``ValueError`` or
    ``FileNotFoundError`` is a bug's and keeps its traceback."""
    return (UserError, FloatingPointError)


def user_message(err: BaseException) -> str:
    """The one line a user error prints: the error's own message, also when
    it was raised in a DataLoader worker (torch re-raises it wrapped in the
    worker's traceback: its last line is the original message)."""
    msg = str(err).strip() or type(err).__name__
    if 'DataLoader worker process' in msg and 'Traceback' in msg:
        last = [line for line in msg.splitlines() if line.strip()][-1]
        msg = last.split(': ', 1)[1] if ': ' in last and last.split(
            ': ', 1)[0].isidentifier() else last
    return msg


def _is_disk_full(err: BaseException) -> bool:
    """No space left: an ``OSError`` ENOSPC, or ``torch.save``'s way of
    saying it (a ``RuntimeError`` from its zip writer)."""
    import errno
    if isinstance(err, OSError):
        return err.errno == errno.ENOSPC
    text = str(err)
    return isinstance(err, RuntimeError) and (
        'PytorchStreamWriter failed writing' in text
        or 'inline_container.cc' in text and 'unexpected pos' in text)


def _is_peer_failure(err: BaseException) -> bool:
    """A collective that failed because another process died (gloo / NCCL):
    the real error is that process's."""
    text = str(err)
    return isinstance(err, RuntimeError) and any(
        key in text for key in ('Connection closed by peer', 'Connection reset',
                                'Broken pipe', 'NCCL communicator was aborted',
                                'gloo/transport'))


def end_distributed(finished: bool = False) -> None:
    """Destroy the process group of a distributed run (if any), so that
    no process exits with a live gloo / NCCL group: that could abort one
    rank at interpreter shutdown ('terminate called without an active
    exception').

    Args:
        finished (bool): The run ended without an error on this process:
            first free what still holds the group (the Runner's reference
            cycles: the DDP wrapper and its reducer) and wait at a barrier
            until every process is done (rank 0 may still be writing the
            last checkpoint), so that no process tears the group down
            under a peer that still uses it. Not after an error: the
            peers may never arrive (the launcher stops them).
    """
    try:
        import gc
        import torch.distributed as dist
        if not (dist.is_available() and dist.is_initialized()):
            return
        if finished:
            gc.collect()
            dist.barrier()
        dist.destroy_process_group()
        gc.collect()
    except Exception:  # never hide the run's own outcome
        pass


def run_tool(main: Callable, argv=None):
    """Run a tool's ``main``; a user error ends it with one line ``error:
    ...`` (exit code 1) instead of a traceback; so do a full disk (finished
    work is kept: rerun to continue) and, in a distributed run, a collective
    broken by another process's failure. Every process reports its own
    first error, once, labelled with its rank. ``MMPPM_DEBUG=1`` shows the
    traceback."""
    if os.environ.get('MMPPM_DEBUG'):
        return main(argv)
    rank = os.environ.get('RANK')
    label = 'error' if rank is None or os.environ.get(
        'WORLD_SIZE', '1') == '1' else f'error (process {rank})'
    finished = False
    try:
        result = main(argv)
        finished = True
        return result
    except user_errors() as e:
        msg = user_message(e)
    except (OSError, RuntimeError) as e:
        if _is_disk_full(e):
            where = getattr(e, 'filename', None) or 'an output file'
        elif isinstance(e, RuntimeError) and rank is not None and \
                _is_peer_failure(e):
            where = None
        else:
            raise
        msg = (f'disk full while writing {where}: '
               'the finished work is kept (test: the prediction cache; '
               'training: the last saved checkpoint); free some space and '
               'rerun the same command (with --resume for training) to '
               'continue') if where is not None else (
                   'another process of this run failed (its error is '
                   'printed by it); this one stopped at a collective '
                   'operation')
    finally:
        end_distributed(finished)
    # one write of whole lines: processes of a distributed run share the
    # terminal, and print's separate write of the end of line let another
    # process's line land mid-line
    sys.stderr.write(f'{label}: {msg}\n(MMPPM_DEBUG=1 shows the traceback)\n')
    sys.stderr.flush()
    sys.exit(1)


def prepare_tool_config(args, merge_args: Callable) -> Config:
    """The common start of ``tools/train.py`` and ``tools/test.py``.

    Allow-lists mmengine checkpoint contents for ``torch.load``
    (:func:`~mmppm.compat.checkpoint_compat.register_checkpoint_safe_globals`),
    loads the config, applies the tool's ``merge_args(cfg, args)``, and
    prepares CPU distributed runs
    (:func:`~mmppm.compat.cpu_distributed.setup_cpu_distributed`). Types,
    arguments (:func:`~mmppm.utils.config_checks.check_components`) and
    values (:func:`~mmppm.utils.value_checks.check_values`) are checked
    before anything is built. A :class:`ToolError` or ``ConfigError`` exits
    with a one-line ``error: ...`` message.

    Args:
        args (argparse.Namespace): Parsed arguments with ``config``,
            ``work_dir`` and ``launcher``.
        merge_args (Callable): ``merge_args(cfg, args) -> cfg``.

    Returns:
        Config: The config to build the Runner from.
    """
    from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
    from .config_checks import check_components
    from .value_checks import check_values
    from mmppm.compat.cpu_distributed import setup_cpu_distributed
    register_checkpoint_safe_globals()
    try:
        cfg = load_tool_config(args.config, args.work_dir, args.launcher)
        cfg = merge_args(cfg, args)
        check_components(cfg)
        check_values(cfg)
        writable_dir(cfg.work_dir, 'work_dir (--work-dir)')
    except (ToolError, ConfigError) as e:
        # one line, from the first process only
        sys.exit(f'error: {e}' if os.environ.get('RANK', '0') == '0' else 1)
    setup_cpu_distributed(cfg, args.launcher)
    return cfg
