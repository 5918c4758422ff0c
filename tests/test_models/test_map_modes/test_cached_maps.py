"""CachedMaps: the neutral-prompt queries (one function for the cached maps
and the fitter's 'auto' prompt scale) and maps from them."""
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.map_modes import (CachedMaps, ExactMaps, maps_from_queries,
                                    neutral_queries)

pytestmark = pytest.mark.usefixtures('one_thread')
SIZE = 32


@pytest.fixture(scope='module')
def backbone(random_sd_dir):
    return MODELS.build(
        dict(
            type='SDCrossAttnBackbone',
            pretrained=random_sd_dir,
            input_size=(64, 64)))


def latents_of(backbone, n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return backbone.encode(torch.rand(n, 3, SIZE, SIZE, generator=g) * 2 - 1)


def test_neutral_queries_are_the_zero_prompts_queries(backbone):
    latents = latents_of(backbone)
    got = neutral_queries(backbone, latents, torch.Generator().manual_seed(3))
    noisy, _ = backbone.add_noise(latents, torch.Generator().manual_seed(3))
    want = backbone.layer_queries(
        noisy, torch.zeros(2, 1, backbone.cross_attention_dim))
    assert got.latent_hw == want.latent_hw
    for name in want.queries:
        torch.testing.assert_close(
            got.queries[name], want.queries[name], rtol=0, atol=0)
    # through a context function (Phi under CPT): its zero-prompt output
    doubled = neutral_queries(
        backbone,
        latents,
        torch.Generator().manual_seed(3),
        context=lambda p: p + 1)
    ones = backbone.layer_queries(
        noisy, torch.ones(2, 1, backbone.cross_attention_dim))
    for name in ones.queries:
        torch.testing.assert_close(
            doubled.queries[name], ones.queries[name], rtol=0, atol=0)


def test_cached_maps_equal_exact_ones_for_the_neutral_prompt(backbone):
    """The caching context is the zero prompt: its cached maps are the
    exact ones (the approximation is exact there)."""
    latents = latents_of(backbone)
    zero = torch.zeros(1, 1, backbone.cross_attention_dim)
    cached = CachedMaps().bind(backbone, lambda p: p)
    exact = ExactMaps().bind(backbone, lambda p: p)
    a = cached.query_maps(latents, zero, (SIZE, SIZE),
                          torch.Generator().manual_seed(1))
    b = exact.query_maps(latents, zero, (SIZE, SIZE),
                         torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    state = neutral_queries(backbone, latents,
                            torch.Generator().manual_seed(1))
    pairs = maps_from_queries(backbone, state, zero, torch.tensor([1, 0]),
                              torch.tensor([0, 0]), (SIZE, SIZE))
    torch.testing.assert_close(pairs, a[[1, 0], 0], rtol=0, atol=0)
