# Copyright (c) mmppm contributors. All rights reserved.
"""Distributed runs (``--launcher pytorch|slurm|mpi``) without GPUs.

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` for every
launcher (which fails without a GPU: "Found no NVIDIA driver" on a CUDA build
of torch), defaults to the nccl backend, and ``Runner.wrap_model`` gives DDP
``device_ids=[LOCAL_RANK]``, which DDP rejects for a CPU module.

:func:`setup_cpu_distributed` is called by ``tools/train.py`` and
``tools/test.py`` before the Runner is built. When CUDA is unavailable it
initialises the process group itself with gloo (``Runner.setup_env`` only
calls ``init_dist`` when no process group exists yet) and adapts the config.
With CUDA, it does nothing and mmengine's standard path runs.
"""
import datetime
import os
import subprocess
from typing import Dict, Mapping, Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel

from mmppm.utils.errors import UserError

_DEFAULT_PORT = '29500'


def dist_env_from_launcher(
        launcher: str,
        environ: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The torch.distributed ``env://`` variables for a launcher.

    ``pytorch`` (torchrun) sets them itself; ``slurm`` and ``mpi`` are
    translated the way mmengine's ``init_dist`` does.

    Args:
        launcher (str): ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
        environ (Mapping[str, str], optional): The environment to read.
            Defaults to ``os.environ``.

    Returns:
        dict: ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
        ``MASTER_PORT``.
    """
    env = os.environ if environ is None else environ
    port = env.get('MASTER_PORT', _DEFAULT_PORT)
    if launcher == 'pytorch':
        out = dict(
            RANK=env['RANK'],
            WORLD_SIZE=env['WORLD_SIZE'],
            LOCAL_RANK=env.get('LOCAL_RANK', '0'),
            MASTER_ADDR=env.get('MASTER_ADDR', '127.0.0.1'),
            MASTER_PORT=port)
    elif launcher == 'slurm':
        addr = env.get('MASTER_ADDR')
        if addr is None:
            node_list = env['SLURM_NODELIST']
            addr = subprocess.getoutput(
                f'scontrol show hostname {node_list} | head -n1')
        out = dict(
            RANK=env['SLURM_PROCID'],
            WORLD_SIZE=env['SLURM_NTASKS'],
            LOCAL_RANK=env.get('SLURM_LOCALID', '0'),
            MASTER_ADDR=addr,
            MASTER_PORT=port)
    elif launcher == 'mpi':
        if 'MASTER_ADDR' not in env:
            raise KeyError('The environment variable MASTER_ADDR is not set')
        out = dict(
            RANK=env['OMPI_COMM_WORLD_RANK'],
            WORLD_SIZE=env['OMPI_COMM_WORLD_SIZE'],
            LOCAL_RANK=env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'),
            MASTER_ADDR=env['MASTER_ADDR'],
            MASTER_PORT=port)
    else:
        raise UserError(f'Unknown launcher {launcher!r}')
    return out


def adapt_cfg_for_cpu_distributed(cfg: Config) -> None:
    """Set gloo and a CPU-compatible DDP wrapper in ``cfg`` (in place).

    * ``env_cfg.dist_cfg.backend = 'gloo'``;
    * ``model_wrapper_cfg``: when absent,
      ``dict(type='MMDistributedDataParallel', device_ids=None,
      broadcast_buffers=False, find_unused_parameters=<cfg value or False>)``;
      when present and a ``DistributedDataParallel`` subclass,
      ``device_ids=None``.

    Args:
        cfg (Config): The run config.
    """
    env_cfg = cfg.get('env_cfg') or {}
    dist_cfg = env_cfg.get('dist_cfg') or {}
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg

    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        return
    wrapper_type = wrapper_cfg.get('type', 'MMDistributedDataParallel')
    if isinstance(wrapper_type, str):
        wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
    if isinstance(wrapper_type, type) and issubclass(wrapper_type,
                                                     DistributedDataParallel):
        wrapper_cfg['device_ids'] = None


def setup_cpu_distributed(cfg: Config, launcher: str) -> bool:
    """Initialise a gloo process group when distributed runs lack CUDA.

    Does nothing (returns False) when ``launcher == 'none'``, when CUDA is
    available (mmengine's standard ``init_dist`` then runs inside the
    Runner), or when a process group already exists. Otherwise it reads the
    launcher's environment (:func:`dist_env_from_launcher`), calls
    ``torch.distributed.init_process_group('gloo')`` and adapts ``cfg``
    (:func:`adapt_cfg_for_cpu_distributed`).

    Args:
        cfg (Config): The run config, modified in place.
        launcher (str): ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Returns:
        bool: True if this call initialised the process group.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if torch_dist.is_available() and torch_dist.is_initialized():
        adapt_cfg_for_cpu_distributed(cfg)
        return False
    os.environ.update(dist_env_from_launcher(launcher))
    adapt_cfg_for_cpu_distributed(cfg)
    timeout = cfg.env_cfg.dist_cfg.get('timeout')
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    torch_dist.init_process_group(
        backend='gloo', init_method='env://', **kwargs)
    print_log(
        f'CUDA unavailable: initialised a gloo process group '
        f'(rank {torch_dist.get_rank()}/{torch_dist.get_world_size()}) for '
        f'launcher {launcher!r}; model replicas run on CPU.',
        logger='current')
    return True
