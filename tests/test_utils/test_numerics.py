# Copyright (c) mmppm contributors. All rights reserved.
import math

import pytest
import torch

from mmppm.utils.numerics import check_finite


def test_finite_passes():
    check_finite(torch.tensor(1.5), 'x')
    check_finite(torch.ones(3, 2), 'x')
    check_finite(0.25, 'x')


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_scalar_names_what(bad):
    with pytest.raises(FloatingPointError, match=r'episode ep007, step 3'):
        check_finite(torch.tensor(bad), 'episode ep007, step 3')


def test_non_finite_tensor_counts_elements():
    loss = torch.tensor([1.0, math.nan, math.inf])
    with pytest.raises(FloatingPointError, match='2 non-finite of 3'):
        check_finite(loss, 'map loss')


def test_grad_tensor_is_fine():
    w = torch.ones(2, requires_grad=True)
    check_finite((w * 2).sum(), 'x')
