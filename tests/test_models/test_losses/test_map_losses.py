"""Map objectives of the prompt fit (the registered losses), with known
answers."""
import math

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.losses import (BalancedMSEMapLoss, MapLoss, MSEMapLoss,
                                 NormalizedCEMapLoss)
from mmppm.models.utils import map_loss_vs_zero

LOSSES = dict(
    mse=MSEMapLoss(),
    balanced_mse=BalancedMSEMapLoss(),
    normalized_ce=NormalizedCEMapLoss())


def map_loss(maps, targets, kind):
    return LOSSES[kind](maps, targets)


def gaussian(h=16, w=16, x=5., y=9., sigma=2.):
    ys, xs = torch.meshgrid(
        torch.arange(h).float(), torch.arange(w).float(), indexing='ij')
    return torch.exp(-((xs - x)**2 + (ys - y)**2) / (2 * sigma**2))[None]


def test_perfect_map_is_the_minimum_of_every_objective():
    t = gaussian()
    for kind in LOSSES:
        perfect = float(map_loss(t, t, kind))
        shifted = float(map_loss(gaussian(x=11.), t, kind))
        zero = float(map_loss(torch.full_like(t, 1e-6), t, kind))
        assert perfect < shifted and perfect < zero, kind


def test_mse_is_the_pixel_mean():
    t = gaussian()
    assert float(map_loss(torch.zeros_like(t), t,
                          'mse')) == pytest.approx(float((t**2).mean()))


def test_balanced_mse_weighs_target_and_background_equally():
    t = torch.zeros(1, 4, 4)
    t[0, 0, 0] = 1.
    # all-zero map: error 1 on the one target pixel, weight 0.5 * (1 + 0)
    assert float(map_loss(torch.zeros_like(t), t,
                          'balanced_mse')) == pytest.approx(0.5)
    # all-one map: error 1 on the 15 background pixels, weight 0.5 / 15 each
    assert float(map_loss(torch.ones_like(t), t,
                          'balanced_mse')) == pytest.approx(0.5)


def test_normalized_ce_is_the_target_entropy_at_the_optimum_and_scale_free():
    t = gaussian()
    p = t / t.sum()
    entropy = float(-(p * p.log()).sum())
    assert float(map_loss(t, t, 'normalized_ce')) == pytest.approx(
        entropy, rel=1e-5)
    m = torch.rand_like(t)
    assert float(map_loss(m, t, 'normalized_ce')) == pytest.approx(
        float(map_loss(0.1 * m, t, 'normalized_ce')), rel=1e-5)
    uniform = float(map_loss(torch.ones_like(t), t, 'normalized_ce'))
    assert uniform == pytest.approx(math.log(16 * 16), rel=1e-5)


def test_each_loss_is_registered_and_per_pair():
    m, t = torch.rand(3, 8, 8), gaussian(8, 8).expand(3, -1, -1)
    for cls in (MSEMapLoss, BalancedMSEMapLoss, NormalizedCEMapLoss):
        built = MODELS.build(dict(type=cls.__name__))
        assert isinstance(built, cls) and isinstance(built, MapLoss)
        per_pair = built(m, t)
        assert per_pair.shape == (3, )
        # one pair at a time gives the same values (chunked sums equal one
        # batch)
        torch.testing.assert_close(
            torch.cat([built(m[i:i + 1], t[i:i + 1]) for i in range(3)]),
            per_pair)


def test_a_new_loss_is_a_registered_subclass():
    """The extension point: no core file edited."""
    from mmppm.models.heads import PromptMatchingHead

    class L1MapLoss(MapLoss):

        def forward(self, maps, targets):
            return (maps - targets).abs().flatten(1).mean(1)

    MODELS.register_module(module=L1MapLoss, force=True)
    try:
        head = PromptMatchingHead(loss=dict(type='L1MapLoss'))
        out = head.loss(
            torch.zeros(2, 4, 4), torch.ones(2, 4, 4), None, None,
            torch.tensor([0.5, 0.25]))
        assert float(out['loss_map']) == pytest.approx(0.75)
    finally:
        MODELS.module_dict.pop('L1MapLoss')


def test_map_loss_vs_zero_known_answers():
    t = np.zeros((1, 2, 4, 4))
    t[0, 0, 1, 1] = t[0, 1, 2, 2] = 1.
    assert map_loss_vs_zero(np.zeros_like(t), t, [[1, 1]]) == 1.0
    assert map_loss_vs_zero(t.copy(), t, [[1, 1]]) == 0.0
    half = t * 0.5
    assert map_loss_vs_zero(half, t, [[1, 1]]) == pytest.approx(0.25)
    # an invisible pair does not count
    bad = t.copy()
    bad[0, 1] = 1.
    assert map_loss_vs_zero(bad, t, [[1, 0]]) == 0.0
    assert np.isnan(map_loss_vs_zero(t, t, [[0, 0]]))
