# Copyright (c) mmppm contributors. All rights reserved.
import pytest
from mmengine.config import Config

from mmppm.compat.cpu_distributed import (adapt_cfg_for_cpu_distributed,
                                          dist_env_from_launcher,
                                          setup_cpu_distributed)


def test_env_from_torchrun():
    env = dict(RANK='1', WORLD_SIZE='2', LOCAL_RANK='1', MASTER_PORT='1234')
    assert dist_env_from_launcher('pytorch', env) == dict(
        RANK='1',
        WORLD_SIZE='2',
        LOCAL_RANK='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT='1234')


def test_env_from_slurm_and_mpi():
    slurm = dict(
        SLURM_PROCID='3',
        SLURM_NTASKS='4',
        SLURM_LOCALID='1',
        MASTER_ADDR='node1')
    assert dist_env_from_launcher('slurm', slurm) == dict(
        RANK='3',
        WORLD_SIZE='4',
        LOCAL_RANK='1',
        MASTER_ADDR='node1',
        MASTER_PORT='29500')
    mpi = dict(
        OMPI_COMM_WORLD_RANK='0',
        OMPI_COMM_WORLD_SIZE='2',
        OMPI_COMM_WORLD_LOCAL_RANK='0',
        MASTER_ADDR='h')
    assert dist_env_from_launcher('mpi', mpi)['WORLD_SIZE'] == '2'
    with pytest.raises(KeyError, match='MASTER_ADDR'):
        dist_env_from_launcher('mpi', dict(OMPI_COMM_WORLD_RANK='0'))
    with pytest.raises(ValueError):
        dist_env_from_launcher('none', {})


def test_adapt_cfg_defaults():
    cfg = Config(dict(find_unused_parameters=True))
    adapt_cfg_for_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=True)


def test_adapt_cfg_keeps_user_wrapper_and_env():
    cfg = Config(
        dict(
            env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60)),
            model_wrapper_cfg=dict(
                type='MMDistributedDataParallel', device_ids=[0])))
    adapt_cfg_for_cpu_distributed(cfg)
    assert cfg.env_cfg.dist_cfg == dict(backend='gloo', timeout=60)
    assert cfg.model_wrapper_cfg.device_ids is None
    # non-DDP wrappers get no device_ids
    import mmppm.engine  # noqa: F401
    cfg = Config(
        dict(model_wrapper_cfg=dict(type='mmpose.TestTimeDataParallel')))
    adapt_cfg_for_cpu_distributed(cfg)
    assert 'device_ids' not in cfg.model_wrapper_cfg


def test_no_launcher_is_a_no_op():
    cfg = Config(dict())
    assert setup_cpu_distributed(cfg, 'none') is False
    assert cfg.get('env_cfg') is None
