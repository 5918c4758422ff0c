# Copyright (c) mmppm contributors. All rights reserved.
from pathlib import Path

import pytest
from mp100_fixtures import TOY_KWARGS

from mmppm.datasets import generate_toy_mp100


@pytest.fixture(scope='session')
def toy_root(tmp_path_factory) -> Path:
    """A small toy MP-100 dataset, generated once per session."""
    root = tmp_path_factory.mktemp('toy_mp100')
    generate_toy_mp100(root, **TOY_KWARGS)
    return root
