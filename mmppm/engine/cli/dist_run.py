# Copyright (c) mmppm contributors. All rights reserved.
"""``torchrun`` for ``tools/dist_*.sh``, reporting a failed run in one line.

``python -m torch.distributed.run`` wraps any failing process in a
35-line ``ChildFailedError`` report, even when the process already said
what went wrong in one line (``error: ...``, printed by the process that
hit it, labelled with its rank, through
:func:`mmppm.engine.cli.run_tool`). This launcher runs torch's own
``run(args)`` and turns that report into one line naming the failed ranks
and their exit codes; ``MMPPM_DEBUG=1`` shows torch's report instead.

A one-node run on a loopback ``--master_addr`` (the scripts' default)
listens on the loopback address only: its rendezvous store and its process
groups' sockets (:mod:`.loopback_rendezvous`); torchrun's own store would
listen on every interface. Other runs (``NNODES`` > 1, another
``MASTER_ADDR``) are torchrun's, as the user configured them.

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


def use_loopback(args) -> bool:
    """Whether the run is one node on a loopback master address with
    torchrun's default (static) rendezvous."""
    from .loopback_rendezvous import LOOPBACK_HOSTS
    return (str(args.nnodes) in ('1', '1:1')
            and args.master_addr in LOOPBACK_HOSTS
            and args.master_port is not None and args.rdzv_backend == 'static'
            and not args.rdzv_endpoint and not args.standalone)


def listen_on_loopback(args, environ) -> None:
    """Make a one-node loopback run listen on 127.0.0.1 only: the
    ``mmppm-loopback`` rendezvous (its store) and the loopback interface
    for gloo / NCCL, set in ``environ`` where unset."""
    from . import loopback_rendezvous
    loopback_rendezvous.register()
    args.master_addr = '127.0.0.1'
    args.rdzv_backend = loopback_rendezvous.BACKEND
    args.rdzv_endpoint = f'127.0.0.1:{int(args.master_port)}'
    args.rdzv_conf = ','.join(c for c in (args.rdzv_conf, 'rank=0') if c)
    environ.update(loopback_rendezvous.loopback_interface_env(environ))


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
    if use_loopback(args):
        listen_on_loopback(args, os.environ)
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
