# Copyright (c) mmppm contributors. All rights reserved.
"""torchrun's rendezvous store listening on the loopback address only.

torchrun's ``static`` rendezvous starts a ``TCPStore`` server that listens
on every interface (``*:PORT``), unauthenticated, even with
``--master_addr 127.0.0.1``: anyone on the network could read and write the
run's keys. For a one-node run on a loopback ``MASTER_ADDR``
(``tools/dist_*.sh``'s default), :mod:`.dist_run` uses the
``mmppm-loopback`` backend registered here: the same static rendezvous,
whose store is given a socket bound to ``MASTER_ADDR`` (``TCPStore``'s
``master_listen_fd``); the workers connect to it as clients
(``TORCHELASTIC_USE_AGENT_STORE``). The process groups' own sockets are
bound to the loopback interface by :func:`loopback_interface_env` (gloo's
``GLOO_SOCKET_IFNAME``, NCCL's ``NCCL_SOCKET_IFNAME``). docs/reliability.md.
"""
import socket
from typing import Dict, Mapping, Optional

BACKEND = 'mmppm-loopback'
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost')


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` only."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(socket.SOMAXCONN)
    return sock


def loopback_interface() -> Optional[str]:
    """The name of the loopback network interface (``lo`` on Linux,
    ``lo0`` on macOS), or None when there is neither."""
    names = {name for _, name in socket.if_nameindex()}
    return next((n for n in ('lo', 'lo0') if n in names), None)


def loopback_interface_env(environ: Mapping[str, str]) -> Dict[str, str]:
    """``GLOO_SOCKET_IFNAME`` and ``NCCL_SOCKET_IFNAME`` set to the loopback
    interface, where ``environ`` does not set them already (a user's
    choice stands)."""
    name = loopback_interface()
    if name is None:
        return {}
    return {
        key: name
        for key in ('GLOO_SOCKET_IFNAME', 'NCCL_SOCKET_IFNAME')
        if key not in environ
    }


def _handler_class():
    from torch.distributed import TCPStore
    from torch.distributed.elastic.rendezvous.static_tcp_rendezvous import \
        StaticTCPRendezvous

    class LoopbackRendezvous(StaticTCPRendezvous):
        """The static rendezvous, its store listening on ``master_addr``
        only (one node: this process is the store's server)."""

        def get_backend(self) -> str:
            return BACKEND

        def next_rendezvous(self):
            if not self._store:
                self._listener = bind_listener(self.master_addr,
                                               self.master_port)
                self._store = TCPStore(
                    self.master_addr,
                    self.master_port,
                    self.world_size,
                    True,
                    self.timeout,
                    multi_tenant=True,
                    master_listen_fd=self._listener.fileno())
            return super().next_rendezvous()

    return LoopbackRendezvous


def create_handler(params):
    """The ``mmppm-loopback`` rendezvous handler of torchrun's parameters
    (as torch's static handler reads them)."""
    from torch.distributed.elastic.rendezvous.static_tcp_rendezvous import \
        create_rdzv_handler
    static = create_rdzv_handler(params)
    # rdzv_conf values are strings; the agent compares the rank with 0
    return _handler_class()(static.master_addr, static.master_port,
                            int(static.rank), static.world_size, static.run_id,
                            int(static.timeout.total_seconds()))


def register() -> None:
    """Register the ``mmppm-loopback`` backend with torchrun (once)."""
    from torch.distributed.elastic.rendezvous import \
        rendezvous_handler_registry
    rendezvous_handler_registry.register(BACKEND, create_handler)
