# Copyright (c) mmppm contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS

from mmppm.models.utils.map_fusion import fuse_maps, log_distribution
from mmppm.testing.ppm_configs import estimator_cfg, feature_matching_cfg
from mmppm.testing.synthetic_episodes import make_episode

pytestmark = pytest.mark.usefixtures('one_thread')


def two_peaks():
    """Prompt maps peaking at A (0.5) with a runner-up at B (0.45);
    similarity peaking at C with B second."""
    prompt = torch.zeros(1, 1, 4, 4)
    prompt[0, 0, 0, 0] = 0.5  # A
    prompt[0, 0, 2, 2] = 0.45  # B
    sim = torch.full((1, 1, 4, 4), -1.)
    sim[0, 0, 3, 3] = 0.9  # C
    sim[0, 0, 2, 2] = 0.8  # B
    sim[0, 0, 0, 0] = -0.5  # A
    return prompt, sim


def argmax(maps):
    return int(maps.flatten(-2).argmax(-1)[0, 0])


def test_weights_0_and_1_give_ppm_and_feature_matching():
    prompt, sim = two_peaks()
    assert argmax(fuse_maps(prompt, sim, 0., 0.1)) == 0  # A, as PPM
    assert argmax(fuse_maps(prompt, sim, 1., 0.1)) == 15  # C, as matching


def test_half_weight_picks_the_place_both_agree_on():
    prompt, sim = two_peaks()
    fused = fuse_maps(prompt, sim, 0.5, 0.1)
    assert argmax(fused) == 10  # B = (y 2, x 2)
    torch.testing.assert_close(fused.sum((-2, -1)), torch.ones(1, 1))
    # the known value: p_B ∝ sqrt(0.45 / 0.95 * softmax(sim / 0.1)_B)
    p = (prompt.flatten() + 1e-8) / (prompt.flatten() + 1e-8).sum()
    s = torch.softmax(sim.flatten() / 0.1, 0)
    expected = (p * s).sqrt() / (p * s).sqrt().sum()
    torch.testing.assert_close(fused.flatten(), expected, rtol=1e-4, atol=1e-7)


def test_log_distribution_of_a_zero_map_is_uniform():
    out = log_distribution(torch.zeros(2, 3, 3)).exp()
    torch.testing.assert_close(out, torch.full((2, 3, 3), 1 / 9))


@pytest.mark.parametrize('arg,value,message', [
    ('weight', 1.5, 'model.fusion.weight'),
    ('weight', float('nan'), 'model.fusion.weight'),
    ('temperature', 0, 'model.fusion.temperature'),
    ('ensemble', 0, 'model.fusion.ensemble'),
    ('feature_layers', [], 'model.fusion.feature_layers'),
])
def test_bad_arguments_named_in_one_line(arg, value, message):
    with DefaultScope.overwrite_default_scope('mmpose'):
        with pytest.raises(ValueError, match=message):
            MODELS.build(dict(type='FeatureSimilarityFusion', **{arg: value}))


def _build(sd_dir, weight, layers=('up_blocks.0', )):
    cfg = estimator_cfg(
        sd_dir,
        fitter=dict(
            type='PromptFitter',
            steps=2,
            lr=0.05,
            map_mode=dict(type='ExactMaps')),
        fusion=dict(
            type='FeatureSimilarityFusion',
            weight=weight,
            feature_layers=list(layers)),
        test_cfg=dict(seed=0))
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.build(cfg)


def _keypoints(results):
    return np.stack([r.pred_instances.keypoints[0] for r in results])


def test_estimator_fusion_at_the_ends_equals_ppm_and_feature_matching(
        random_sd_dir):
    """weight 0: PPM's keypoints; weight 1: the feature-matching baseline's
    (same features, same noise seed), on a real tiny SD."""
    images, samples = make_episode(shots=1, queries=2, k=3, seed=2)
    ppm = _build(random_sd_dir, 0.)
    ppm_alone = _build(random_sd_dir, 0.)
    ppm_alone.fusion = None
    np.testing.assert_allclose(
        _keypoints(ppm.predict_episode(images, samples)),
        _keypoints(ppm_alone.predict_episode(images, samples)))
    with DefaultScope.overwrite_default_scope('mmpose'):
        fm = MODELS.build(feature_matching_cfg(random_sd_dir, seed=0))
    np.testing.assert_allclose(
        _keypoints(_build(random_sd_dir, 1.).predict_episode(images, samples)),
        _keypoints(fm.predict_episode(images, samples)))


def test_unknown_feature_layer_refused_before_the_fit(random_sd_dir):
    with pytest.raises(
            ValueError, match="model.fusion: feature_layers "
            r"\['up_blocks.9'\]"):
        _build(random_sd_dir, 0.5, layers=('up_blocks.9', ))
