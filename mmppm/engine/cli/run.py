# Copyright (c) mmppm contributors. All rights reserved.
"""How every tool ends: :func:`run_tool` turns a user error into one line
``error: ...`` (exit code 1), and a distributed run's process group is
torn down on every way out."""
import os
import sys
from typing import Callable

from mmppm.utils.errors import UserError


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
        key in text
        for key in ('Connection closed by peer', 'Connection reset',
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
