# Copyright (c) mmppm contributors. All rights reserved.
"""A one-node distributed run (tools/dist_*.sh's launcher) listens on the
loopback address only (issue 35 case 12: torchrun's store listened on every
interface)."""
import argparse
import json
import os.path as osp
import subprocess
import sys

import pytest

from mmppm.engine.cli.dist_run import use_loopback
from mmppm.engine.cli.loopback_rendezvous import loopback_interface_env
from mmppm.testing.tool_runs import free_port, tool_env

# rank 0 lists the listening TCP sockets of the launcher and its workers
# once the gloo group is up (the store and gloo's pair sockets exist)
PROBE = r'''
import json, os, sys
import torch.distributed as dist

def inodes(pid):
    out = set()
    try:
        for fd in os.listdir(f'/proc/{pid}/fd'):
            link = os.readlink(f'/proc/{pid}/fd/{fd}')
            if link.startswith('socket:['):
                out.add(link[8:-1])
    except OSError:
        pass
    return out

def children(parent):
    pids = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                stat = open(f'/proc/{pid}/stat').read()
            except OSError:
                continue
            if int(stat.rsplit(')', 1)[1].split()[1]) == parent:
                pids.append(int(pid))
    return pids

def listening(wanted):
    found = []
    for name, width in (('tcp', 8), ('tcp6', 32)):
        for line in open(f'/proc/net/{name}').read().splitlines()[1:]:
            f = line.split()
            if f[3] == '0A' and f[9] in wanted:  # LISTEN
                found.append(f[1].split(':')[0])
    return found

dist.init_process_group('gloo')
dist.barrier()
if dist.get_rank() == 0:
    agent = os.getppid()
    wanted = set().union(*(inodes(p) for p in [agent] + children(agent)))
    json.dump(listening(wanted), open(sys.argv[1], 'w'))
dist.barrier()
dist.destroy_process_group()
'''

LOOPBACK = {'0100007F', '00000000000000000000000001000000'}


@pytest.mark.skipif(not osp.isdir('/proc/net'), reason='needs Linux /proc')
def test_a_one_node_run_listens_on_loopback_only(tmp_path):
    script = tmp_path / 'probe.py'
    script.write_text(PROBE)
    out = tmp_path / 'listening.json'
    env = tool_env()
    env.pop('GLOO_SOCKET_IFNAME', None)
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run([
        sys.executable, '-m', 'mmppm.engine.cli.dist_run',
        '--nproc_per_node=2', '--master_addr=127.0.0.1',
        f'--master_port={free_port()}',
        str(script),
        str(out)
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    addresses = json.loads(out.read_text())
    # the store (launcher) and one gloo listener per worker
    assert len(addresses) >= 3, addresses
    assert set(addresses) <= LOOPBACK, addresses


def _args(**kw):
    base = dict(
        nnodes='1',
        master_addr='127.0.0.1',
        master_port=29500,
        rdzv_backend='static',
        rdzv_endpoint='',
        standalone=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_only_one_node_loopback_runs_are_changed():
    assert use_loopback(_args())
    assert use_loopback(_args(master_addr='localhost'))
    assert not use_loopback(_args(nnodes='2'))
    assert not use_loopback(_args(master_addr='10.0.0.5'))
    assert not use_loopback(_args(rdzv_backend='c10d'))
    assert not use_loopback(_args(standalone=True))


def test_a_users_interface_choice_stands():
    env = loopback_interface_env({'GLOO_SOCKET_IFNAME': 'eth1'})
    assert 'GLOO_SOCKET_IFNAME' not in env
    if env:  # a machine with a loopback interface
        assert env['NCCL_SOCKET_IFNAME'] in ('lo', 'lo0')
