# Copyright (c) mmppm contributors. All rights reserved.
"""Running the repository's scripts from tests: in-process
(:func:`load_script`), in a subprocess (:func:`tool_env`) or on two CPU
processes under torchrun (:func:`torchrun`)."""
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import sys

# The checkout's root: the scripts are files of the repository, not of the
# package (mmppm is installed editable, tools/install.sh).
REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


def load_script(relpath: str):
    """Import a script of the repository as a module.

    Args:
        relpath (str): Its path from the repository root
            (``'tools/train.py'``, ``'demo/cape_demo.py'``,
            ``'projects/toy_sd/tools/train_toy_sd.py'``).

    Returns:
        module: The script, executed (its ``__name__`` is not
        ``'__main__'``, so only its definitions run).
    """
    name = 'mmppm_script_' + osp.splitext(relpath)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_env() -> dict:
    """The environment of a tool subprocess: offline, the checkout first on
    ``PYTHONPATH`` (its ``mmppm`` and ``projects``), torch's weights-only
    loading as installed."""
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    env['PYTHONPATH'] = os.pathsep.join([REPO, env.get('PYTHONPATH', '')])
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    return env


def free_port() -> str:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def torchrun(script: str, *args, nproc: int = 2):
    """``tools/SCRIPT ARGS --launcher pytorch`` on ``nproc`` CPU processes
    (gloo), through tools/dist_*.sh's launcher; asserts it exits 0 and
    returns the finished process."""
    cmd = [
        sys.executable, '-m', 'mmppm.engine.cli.dist_run',
        f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1',
        f'--master_port={free_port()}',
        osp.join(REPO, 'tools', script), *args, '--launcher', 'pytorch'
    ]
    proc = subprocess.run(
        cmd, env=tool_env(), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def rank_params(work_dir: str, rank: int) -> dict:
    """What :class:`mmppm.testing.fakes.DumpParamsHook` saved for
    ``rank``."""
    import torch
    return torch.load(
        osp.join(work_dir, f'params_rank{rank}.pt'), weights_only=True)
