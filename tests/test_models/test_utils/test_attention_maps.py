import math

import pytest
import torch
import torch.nn.functional as F

from mmppm.models.utils import (aggregate_layer_maps, cross_attn_map,
                                infer_map_hw)


def _per_head_scores(q, k, heads):
    b, n, inner = q.shape
    d = inner // heads
    qh = q.reshape(b, n, heads, d)
    kh = k.reshape(b, k.shape[1], heads, d)
    return torch.einsum('bnhd,bthd->bhtn', qh, kh) / math.sqrt(d)


def test_head_mean_is_sigmoid_of_mean_of_per_head_scores():
    torch.manual_seed(0)
    q, k = torch.randn(2, 12, 16), torch.randn(2, 3, 16)
    expected = torch.sigmoid(_per_head_scores(q, k, 4).mean(dim=1))
    out = cross_attn_map(q, k, heads=4, reduction='head_mean')
    assert out.shape == (2, 3, 12)
    torch.testing.assert_close(out, expected)


def test_sigmoid_head_mean_reduction():
    torch.manual_seed(1)
    q, k = torch.randn(1, 6, 8), torch.randn(1, 1, 8)
    expected = torch.sigmoid(_per_head_scores(q, k, 2)).mean(dim=1)
    torch.testing.assert_close(
        cross_attn_map(q, k, 2, 'sigmoid_head_mean'), expected)


def test_unknown_reduction():
    with pytest.raises(ValueError, match='head_mean'):
        cross_attn_map(torch.zeros(1, 2, 4), torch.zeros(1, 1, 4), 1, 'max')


@pytest.mark.parametrize('n,latent,expected', [(64 * 64, (64, 64), (64, 64)),
                                               (8 * 8, (64, 64), (8, 8)),
                                               (4 * 6, (32, 48), (4, 6)),
                                               (2 * 3, (9, 17), (2, 3))])
def test_infer_map_hw(n, latent, expected):
    assert infer_map_hw(n, latent) == expected


def test_infer_map_hw_rejects_impossible_size():
    with pytest.raises(ValueError, match='Cannot infer'):
        infer_map_hw(7, (8, 8))


def test_aggregate_equals_mean_of_upsampled_layers():
    torch.manual_seed(2)
    maps = dict(
        a=torch.rand(2, 3, 4, 4),
        b=torch.rand(2, 3, 8, 8),
        c=torch.rand(2, 3, 4, 4))
    expected = sum(
        F.interpolate(m, size=(16, 16), mode='bilinear', align_corners=False)
        for m in maps.values()) / 3
    out = aggregate_layer_maps(maps, (16, 16))
    torch.testing.assert_close(out, expected)
    only_b = aggregate_layer_maps(maps, (16, 16), names=['b'])
    torch.testing.assert_close(
        only_b,
        F.interpolate(
            maps['b'], size=(16, 16), mode='bilinear', align_corners=False))


def test_logit_sensitivity_known_answers():
    from mmppm.models.utils import logit_sensitivity
    heads, inner, c = 2, 4, 3
    w_k = torch.eye(inner)[:, :c]  # f = q[:, :3] / (heads * sqrt(2))
    constant = torch.ones(1, 5, inner)
    assert float(logit_sensitivity(constant, w_k, heads)) == 0.0
    q = torch.zeros(1, 2, inner)
    q[0, 0, 0], q[0, 1, 0] = 1., -1.  # f_0 = +-1 / (2 sqrt 2)
    expected = 1 / (2 * math.sqrt(2))
    assert float(logit_sensitivity(q, w_k, heads)) == pytest.approx(expected)
