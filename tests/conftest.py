"""Shared fixtures: a tiny random-weight Stable Diffusion saved once per run."""
import importlib.util
import os
import os.path as osp

import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import mmppm  # noqa: E402,F401  (registers modules, mmcv stand-in)


@pytest.fixture(scope='session')
def random_sd_dir(tmp_path_factory) -> str:
    """A tiny SD folder written with save_pretrained (with text encoder)."""
    from mmppm.utils import save_random_sd
    out = tmp_path_factory.mktemp('random_sd')
    return save_random_sd(osp.join(out, 'sd'), arch='tiny', seed=0)


@pytest.fixture(scope='session')
def load_tool():
    """Import a script under ``tools/`` as a module: ``load_tool('a/b.py')``."""
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))

    def load(relpath: str):
        name = 'mmppm_tool_' + osp.splitext(relpath)[0].replace('/', '_')
        spec = importlib.util.spec_from_file_location(
            name, osp.join(repo, 'tools', relpath))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope='session')
def toy_default_root(tmp_path_factory) -> str:
    """The toy data set exactly as ``make toy`` generates it (seed 0)."""
    from mmppm.datasets import generate_toy_mp100
    root = tmp_path_factory.mktemp('toy_default')
    generate_toy_mp100(root, seed=0)
    return str(root)


@pytest.fixture
def one_line_error(capsys):
    """``one_line_error(main, argv)``: run a tool's ``main`` through
    ``run_tool``, check it fails as a user error (exit 1, one ``error:``
    line and the debug hint) and return that line."""
    import pytest as _pytest
    from mmppm.engine.cli import run_tool

    def run(main, argv):
        with _pytest.raises(SystemExit) as exc:
            run_tool(main, argv)
        assert exc.value.code == 1
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines[1:] == ['(MMPPM_DEBUG=1 shows the traceback)'], lines
        return lines[0]

    return run


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (``pytestmark =
    pytest.mark.usefixtures('one_thread')``): the suite shares 2 cores."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
