# Copyright (c) mmppm contributors. All rights reserved.
import pytest
import torch


@pytest.fixture(scope='module')
def one_thread():
    """One torch thread for the whole module (module-scoped, unlike
    tests/conftest.py's, so that module-scoped models can use it): the CPUs
    are shared, threads only fight there."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
