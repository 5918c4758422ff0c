# Copyright (c) mmppm contributors. All rights reserved.
"""The cost model's UNet-pass counts equal the passes a fit and its query
maps make, for every shipped map mode."""
import pytest
import torch
from mmppm_analysis.unet_calls import (UNET_CALLS, UNetCalls,
                                       episode_unet_calls, fit_unet_calls,
                                       register_unet_calls)

from mmppm.models.map_modes import (CachedMaps, ExactMaps, MapMode,
                                    SharedContextMaps)
from mmppm.testing.ppm_configs import build_ppm_estimator as build_model
from mmppm.testing.synthetic_episodes import CROP, fit_inputs
from mmppm.utils.errors import UserError


@pytest.mark.parametrize('map_mode',
                         ['CachedMaps', 'ExactMaps', 'SharedContextMaps'])
def test_unet_calls_count_the_passes_made(random_sd_dir, monkeypatch,
                                          map_mode):
    model = build_model(random_sd_dir, steps=2, max_batch=2, map_mode=map_mode)
    images, targets, visible = fit_inputs()
    latents = model.backbone.encode(images)
    calls = []
    run_unet = model.backbone._run_unet
    monkeypatch.setattr(model.backbone, '_run_unet',
                        lambda *a: calls.append(1) or run_unet(*a))
    g = torch.Generator().manual_seed(0)
    fit = model.fit_prompts(latents[:2], targets, visible, g)
    model.query_maps(latents[2:], fit.prompts, (CROP, CROP), g)
    assert fit.steps == 2
    assert len(calls) == episode_unet_calls(
        model.fitter.map_mode,
        steps=2,
        num_pairs=5,
        num_supports=2,
        num_queries=3,
        num_prompts=3)


@pytest.mark.parametrize(
    'mode,max_batch,expected',
    [
        # 2 steps x ceil(3 pairs / b) + ceil(1 query x 3 prompts / b)
        (ExactMaps, 64, 2 + 1),
        (ExactMaps, 2, 2 * 2 + 2),
        # one feature pass for the supports, one for the queries
        (CachedMaps, 64, 2),
        (CachedMaps, 1, 2),
        # one pass per step (all supports), ceil(5 queries / b)
        (SharedContextMaps, 64, 2 + 1),
        (SharedContextMaps, 2, 2 + 3),
    ])
def test_unet_calls_known_answers(mode, max_batch, expected):
    num_queries = 5 if mode is SharedContextMaps else 1
    m = mode(max_batch=max_batch)  # arithmetic only: unbound
    assert episode_unet_calls(
        m,
        steps=2,
        num_pairs=3,
        num_supports=1,
        num_queries=num_queries,
        num_prompts=3) == expected


def test_exact_maps_count_by_hand():
    mode = ExactMaps(max_batch=4)
    # 10 steps of 9 pairs in chunks of 4: 3 passes each; 6 x 3 maps: 5
    assert episode_unet_calls(mode, 10, 9, 3, 6, 3) == 10 * 3 + 5


def test_a_mode_of_your_own(monkeypatch):

    class MyMaps(MapMode):
        pass

    with pytest.raises(
            UserError,
            match='no UNet-call count for map mode '
            'MyMaps: add one with'):
        fit_unet_calls(MyMaps(), 1, 1, 1)
    monkeypatch.setitem(UNET_CALLS, 'unused', UNET_CALLS['ExactMaps'])
    register_unet_calls(
        'MyMaps',
        UNetCalls(
            fit=lambda m, steps, pairs, images: 7 * steps,
            query=lambda m, images, prompts: 1))
    try:
        assert episode_unet_calls(MyMaps(), 2, 1, 1, 1, 1) == 15
    finally:
        UNET_CALLS.pop('MyMaps')


@pytest.mark.parametrize('ensemble,with_prior', [(1, False), (2, False),
                                                 (2, True)])
def test_fusion_unet_calls_count_the_passes_made(random_sd_dir, monkeypatch,
                                                 ensemble, with_prior):
    """FeatureSimilarityFusion: one pass of all the episode's images per
    noise draw, whatever the number of images and keypoints; a
    SupportLayoutPrior after it (a list config) adds none."""
    from mmengine.registry import DefaultScope
    from mmppm_analysis.unet_calls import fusion_unet_calls

    from mmppm.testing.synthetic_episodes import make_episode
    model = build_model(random_sd_dir, steps=0, map_mode='CachedMaps')
    from mmppm.models.fusions import build_fusion
    cfg = dict(type='FeatureSimilarityFusion', ensemble=ensemble)
    if with_prior:
        cfg = [cfg, dict(type='SupportLayoutPrior')]
    with DefaultScope.overwrite_default_scope('mmpose'):
        model.fusion = build_fusion(cfg)
    images, samples = make_episode(shots=1, queries=3, k=3)
    latents = model.backbone.encode(images)
    calls = []
    run_unet = model.backbone._run_unet
    monkeypatch.setattr(model.backbone, '_run_unet',
                        lambda *a: calls.append(1) or run_unet(*a))
    maps = torch.rand(3, 3, CROP, CROP)
    model.fusion(model.backbone, latents, samples[:1], maps,
                 torch.Generator().manual_seed(0))
    assert len(calls) == fusion_unet_calls(model.fusion, 4) == ensemble
    assert fusion_unet_calls(None, 4) == 0
