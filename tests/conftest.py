"""Shared fixtures: a tiny random-weight Stable Diffusion saved once per run,
toy data sets, the repository's scripts as modules. What they build comes
from :mod:`mmppm.testing`."""
import os
import os.path as osp
from pathlib import Path

import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import mmppm  # noqa: E402,F401  (registers modules, mmcv stand-in)


@pytest.fixture(scope='session')
def random_sd_dir(tmp_path_factory) -> str:
    """A tiny SD folder written with save_pretrained (with text encoder)."""
    from mmppm.utils.random_sd import save_random_sd
    out = tmp_path_factory.mktemp('random_sd')
    return save_random_sd(osp.join(out, 'sd'), arch='tiny', seed=0)


@pytest.fixture(scope='session')
def load_tool():
    """Import a script as a module: ``load_tool('analysis/x.py')`` for one
    under ``tools/``, ``load_tool('demo/cape_demo.py')`` or
    ``load_tool('projects/toy_sd/tools/train_toy_sd.py')`` for one
    elsewhere (a path from the repository root)."""
    from mmppm.testing.tool_runs import load_script

    def load(relpath: str):
        top = relpath.split('/')[0]
        return load_script(
            relpath if top in ('tools', 'demo',
                               'projects') else 'tools/' + relpath)

    return load


@pytest.fixture(scope='session')
def toy_default_root(tmp_path_factory) -> str:
    """The toy data set exactly as ``make toy`` generates it (seed 0)."""
    from mmppm.datasets import generate_toy_mp100
    root = tmp_path_factory.mktemp('toy_default')
    generate_toy_mp100(root, seed=0)
    return str(root)


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory) -> Path:
    """A small toy MP-100 dataset
    (:data:`mmppm.testing.mp100_fixtures.TOY_KWARGS`), generated once per
    session."""
    from mmppm.datasets import generate_toy_mp100
    from mmppm.testing.mp100_fixtures import TOY_KWARGS
    root = tmp_path_factory.mktemp('toy_mp100')
    generate_toy_mp100(root, **TOY_KWARGS)
    return root


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory) -> str:
    """The tiny toy set of the small PPM config
    (:data:`mmppm.testing.ppm_configs.TOY_KWARGS`)."""
    from mmppm.datasets import generate_toy_mp100
    from mmppm.testing.ppm_configs import TOY_KWARGS
    root = tmp_path_factory.mktemp('toy_cape')
    generate_toy_mp100(root, **TOY_KWARGS)
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
