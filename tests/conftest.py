"""Shared fixtures: a tiny random-weight Stable Diffusion saved once per run."""
import os
import os.path as osp
from pathlib import Path

import pytest

os.environ.setdefault('HF_HUB_OFFLINE', '1')

import mmppm  # noqa: E402,F401  (registers modules, mmcv stand-in)

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """The project's ``shared/`` folder (beside the repo), if present."""
    return Path(os.environ.get('MMPPM_SHARED_DIR',
                               REPO_ROOT.parent / 'shared'))


@pytest.fixture(scope='session')
def tiny_sd_dir(tmp_path_factory) -> str:
    """A tiny SD folder written with save_pretrained (with text encoder)."""
    from mmppm.utils import save_random_sd
    out = tmp_path_factory.mktemp('tiny_sd')
    return save_random_sd(osp.join(out, 'sd'), arch='tiny', seed=0)
