# Copyright (c) mmppm contributors. All rights reserved.
"""What Phi (CPT, paper Eq. 5) does to the prompt space: Jacobians and
effective ranks with known answers."""
import math

import pytest
import torch
import torch.nn as nn
from mmppm_analysis.phi_jacobian import (effective_rank, phi_jacobian,
                                         phi_report)

from mmppm.models.prompt_encoders.shared_prompt_mlp import SharedPromptMLP

C = 4


def _encoder(residual: bool, seed: int = 0) -> SharedPromptMLP:
    torch.manual_seed(seed)
    return SharedPromptMLP(embed_dims=C, residual=residual)


def _select_prompt_half(encoder: SharedPromptMLP) -> None:
    """First layer: hidden = P (the P_bar half of [P_bar, P] ignored)."""
    with torch.no_grad():
        encoder.mlp[0].weight.copy_(
            torch.cat([torch.zeros(C, C), torch.eye(C)], dim=1))
        encoder.mlp[0].bias.zero_()


# ------------------------------------------------------------ effective rank
def test_effective_rank_known_answers():
    for n in (1, 3, 16):
        assert effective_rank(torch.linalg.svdvals(torch.eye(n))) == \
            pytest.approx(n)
    # rank 1 (an outer product): one non-zero singular value
    rank1 = torch.outer(torch.arange(1., 5.), torch.tensor([1., -2, 0.5]))
    assert effective_rank(torch.linalg.svdvals(rank1)) == pytest.approx(
        1, abs=1e-5)
    # p = (1/2, 1/4, 1/4): H = 1.5 ln 2, exp(H) = 2^1.5; order, scale and
    # exact zeros do not matter
    assert effective_rank([1, 2, 1]) == pytest.approx(2**1.5)
    assert effective_rank([0, 20, 10, 10, 0]) == pytest.approx(2**1.5)
    assert effective_rank(torch.zeros(3)) == 0.0
    assert effective_rank([]) == 0.0


# ---------------------------------------------------------------- Jacobian
def test_residual_with_zero_last_layer_is_the_identity():
    """Residual Phi as initialised (last layer zero): context = P."""
    encoder = _encoder(residual=True)
    _select_prompt_half(encoder)  # (any first layer gives the identity)
    prompt = torch.randn(C)
    jac = phi_jacobian(encoder, prompt)
    assert jac.shape == (C, C)
    assert torch.equal(jac, torch.eye(C))
    assert effective_rank(torch.linalg.svdvals(jac)) == pytest.approx(C)


def test_linear_phi_jacobian_is_the_weight_product():
    """Without the activation Phi is linear: J = W2 W1[:, c:], J[i, j] =
    d context_i / d P_j (the P_bar half has no say)."""
    encoder = _encoder(residual=False, seed=1)
    encoder.mlp[1] = nn.Identity()
    w1, w2 = encoder.mlp[0].weight.detach(), encoder.mlp[2].weight.detach()
    for prompt in torch.randn(3, C):
        assert torch.allclose(
            phi_jacobian(encoder, prompt), w2 @ w1[:, C:], atol=1e-6)
    # residual: plus the identity
    encoder.residual = True
    assert torch.allclose(
        phi_jacobian(encoder, torch.randn(C)),
        torch.eye(C) + w2 @ w1[:, C:],
        atol=1e-6)


def test_gelu_phi_matches_autograd():
    encoder = _encoder(residual=False, seed=2)
    prompt = torch.randn(C)
    expected = torch.autograd.functional.jacobian(
        lambda p: encoder(p[None, None])[0, 0], prompt)
    assert torch.allclose(phi_jacobian(encoder, prompt), expected, atol=1e-6)


def test_rank_one_last_layer_collapses_the_prompt_space():
    encoder = _encoder(residual=False, seed=3)
    with torch.no_grad():
        encoder.mlp[2].weight.copy_(
            torch.outer(torch.tensor([1., 2, -1, 0.5]), torch.ones(C)))
    jac = phi_jacobian(encoder, torch.randn(C) * 0.1)
    assert torch.linalg.matrix_rank(jac) == 1
    assert effective_rank(torch.linalg.svdvals(jac)) == pytest.approx(
        1, abs=1e-4)


# ------------------------------------------------------------------ report
def test_report_of_the_identity_map():
    encoder = _encoder(residual=True)
    prompts = torch.randn(5, C) * 0.1
    report = phi_report(encoder, prompts, token_norms=torch.tensor([2., 4.]))
    assert report['num_prompts'] == 5 and report['embed_dims'] == C
    for key in ('effective_rank_mean', 'effective_rank_min',
                'effective_rank_max'):
        assert report[key] == pytest.approx(C)
    assert report['top_singular_value_mean'] == pytest.approx(1)
    assert report['singular_value_ratio_mean'] == pytest.approx(1)
    norm = float(prompts.norm(dim=-1).mean())
    assert report['input_norm_mean'] == pytest.approx(norm)
    assert report['output_norm_mean'] == pytest.approx(norm)
    assert report['token_norm_mean'] == 3.0
    assert 'token_norm_mean' not in phi_report(encoder, prompts)


def test_report_of_a_scaled_rank_one_map():
    """Linear Phi = 3 e_1 e_1^T on P: rank 1, top singular value 3, the
    smallest 0, outputs 3 |P_1|."""
    encoder = _encoder(residual=False)
    encoder.mlp[1] = nn.Identity()
    _select_prompt_half(encoder)
    with torch.no_grad():
        encoder.mlp[2].weight.zero_()
        encoder.mlp[2].weight[0, 0] = 3.0
        encoder.mlp[2].bias.zero_()
    prompts = torch.randn(6, C)
    report = phi_report(encoder, prompts)
    assert report['effective_rank_mean'] == pytest.approx(1)
    assert report['effective_rank_max'] == pytest.approx(1)
    assert report['top_singular_value_mean'] == pytest.approx(3)
    assert report['singular_value_ratio_mean'] == pytest.approx(0, abs=1e-7)
    assert report['output_norm_mean'] == pytest.approx(
        float(3 * prompts[:, 0].abs().mean()), rel=1e-5)
    assert all(
        isinstance(v, (int, float)) and math.isfinite(v)
        for v in report.values())


def test_report_needs_n_by_c_prompts():
    with pytest.raises(ValueError, match=r'\[N, c\]'):
        phi_report(_encoder(residual=True), torch.randn(C))
