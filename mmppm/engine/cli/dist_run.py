# Copyright (c) mmppm contributors. All rights reserved.
"""``torchrun`` for ``tools/dist_*.sh``, reporting a failed run in one line.

``python -m torch.distributed.run`` wraps any failing process in a
35-line ``ChildFailedError`` report, even when the process already said
what went wrong in one line (``error: ...``, printed by the process that
hit it, labelled with its rank, through
:func:`mmppm.engine.cli.run_tool`). This launcher runs torch's own
``run(args)`` and turns that report into one line naming the failed ranks
and their exit codes; ``MMPPM_DEBUG=1`` shows torch's report instead.

Usage:
    ``python -m mmppm.engine.cli.dist_run [torchrun arguments] SCRIPT ...``
"""
import os
import signal
import socket
import sys
from typing import Optional


def port_problem(host: str, port: int) -> Optional[str]:
    """Why the rendezvous port cannot be bound on ``host``, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as e:
            return e.strerror or str(e)
    return None


def main(argv=None) -> None:
    from torch.distributed.elastic.multiprocessing.errors import \
        ChildFailedError
    from torch.distributed.run import parse_args, run
    args = parse_args(argv)
    if args.node_rank == 0 and args.master_addr in ('127.0.0.1', 'localhost'):
        problem = port_problem('127.0.0.1', int(args.master_port))
        if problem:  # torchrun: a 30-line DistNetworkError traceback
            sys.exit(f'error: port {args.master_port} on {args.master_addr} '
                     f'cannot be used ({problem}): set another, e.g. '
                     f'PORT={int(args.master_port) + 1} bash tools/'
                     'dist_train.sh ...')
    if os.environ.get('MMPPM_DEBUG'):
        run(args)
        return
    try:
        run(args)
    except ChildFailedError as e:
        # a process torchrun stopped (SIGTERM) after another failed did not
        # fail itself
        failed = sorted(
            (r, f) for r, f in e.failures.items()
            if f.exitcode != -signal.SIGTERM) or sorted(e.failures.items())
        rank, first = e.get_first_failure()
        code = first.exitcode if first.exitcode > 0 else 1
        if len(failed) == 1:
            what = (f'process {rank} failed (exit code {first.exitcode}); '
                    'its error is printed above')
        else:
            ranks = ', '.join(str(r) for r, _ in failed)
            codes = ', '.join(str(f.exitcode) for _, f in failed)
            what = (f'processes {ranks} failed (exit codes {codes}); their '
                    'errors are printed above')
        print(
            f"error: {what} (MMPPM_DEBUG=1 shows torchrun's report)",
            file=sys.stderr)
        sys.exit(code)


if __name__ == '__main__':
    main()
