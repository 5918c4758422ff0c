# Copyright (c) mmppm contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch

from mmppm.utils.numerics import (check_finite, is_finite_number, is_int,
                                  is_number)


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


@pytest.mark.parametrize(
    'value, integer, number, finite',
    [
        (3, True, True, True),
        (np.int64(3), True, True, True),
        (2.0, False, True, True),
        (np.float32(0.5), False, True, True),
        (math.nan, False, True, False),
        (math.inf, False, True, False),
        (True, False, False, False),  # a bool is a Python int, never a count
        ('3', False, False, False),
        (None, False, False, False),
    ])
def test_what_counts_as_an_integer_or_a_number(value, integer, number, finite):
    assert is_int(value) is integer
    assert is_number(value) is number
    assert is_finite_number(value) is finite
