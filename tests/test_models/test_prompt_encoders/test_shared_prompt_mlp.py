"""CPT's P_bar and Phi."""
import pytest
import torch

from mmppm.models.prompt_encoders import SharedPromptMLP


def test_context_is_phi_of_the_shared_and_the_own_prompt():
    enc = SharedPromptMLP(embed_dims=4, hidden_dims=6)
    prompts = torch.randn(3, 1, 4)
    out = enc(prompts)
    assert out.shape == (3, 1, 4)
    manual = enc.mlp(
        torch.cat([enc.shared_prompt.expand(3, 1, 4), prompts], dim=-1))
    torch.testing.assert_close(out, manual)
    # the same prompt gives the same token; another prompt another one
    torch.testing.assert_close(enc(prompts[:1]), out[:1])
    assert not torch.allclose(out[0], out[1])


def test_needs_embed_dims_and_matching_checkpoints():
    with pytest.raises(ValueError, match='embed_dims'):
        SharedPromptMLP()
    enc = SharedPromptMLP(embed_dims=4)
    other = SharedPromptMLP(embed_dims=8).state_dict()
    with pytest.raises(ValueError, match='channels c=4'):
        enc.load_state_dict(other)


def test_residual_phi_starts_as_plain_ppm_and_learns_an_offset():
    enc = SharedPromptMLP(embed_dims=4, hidden_dims=6, residual=True)
    prompts = torch.randn(3, 1, 4)
    torch.testing.assert_close(enc(prompts), prompts)  # untrained: P itself
    with torch.no_grad():
        enc.mlp[-1].bias.fill_(0.5)
    torch.testing.assert_close(enc(prompts), prompts + 0.5)
    # Phi still sees P_bar: gradients reach it once the last layer moves
    enc.mlp[-1].weight.data.normal_()
    enc(prompts).sum().backward()
    assert enc.shared_prompt.grad.abs().sum() > 0
