# Copyright (c) mmppm contributors. All rights reserved.
import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.pose_estimators import feature_matching
from mmppm.models.utils import crop_to_image
from mmppm.models.utils.feature_similarity import (cosine_maps, mean_reference,
                                                   sample_features)
from mmppm.testing.ppm_configs import feature_matching_cfg
from mmppm.testing.synthetic_episodes import CROP, make_sample


def test_sample_features_of_a_ramp_gives_the_point_back():
    # an 8 x 8 grid over a 32 px crop: cell j's centre is pixel 4 j + 1.5
    ramp = torch.arange(8, dtype=torch.float32) * 4 + 1.5
    feats = torch.stack([ramp.expand(8, 8), ramp[:, None].expand(8, 8)])
    xy = np.array([[9.5, 17.5], [12., 20.], [5.5, 26.]], np.float32)
    np.testing.assert_allclose(
        sample_features(feats, xy, (32, 32)).numpy(), xy, atol=1e-5)


def test_cosine_maps_and_mean_reference():
    feats = torch.zeros(1, 3, 2, 2)
    feats[0, 0, 0, 1] = 2  # location (y=0, x=1) points along channel 0
    feats[0, 1, 1, 0] = 1
    maps = cosine_maps(feats, torch.tensor([[1., 0., 0.]]))
    assert maps[0, 0, 0, 1] == pytest.approx(1) and maps[0, 0, 1, 0] == 0
    vectors = torch.tensor([[[2., 0.]], [[0., 3.]], [[5., 5.]]])  # [S,K,C]
    ref = mean_reference(vectors, torch.tensor([[1.], [1.], [0.]]))
    torch.testing.assert_close(ref, torch.tensor([[0.5, 0.5]]))


def test_known_answer_with_unique_features(random_sd_dir, monkeypatch):
    """Every location has its own code (identical in support and query):
    each query keypoint lands where the support's is, in crop terms."""
    model = MODELS.build(
        feature_matching_cfg(random_sd_dir, feature_layers=['up_blocks.0']))
    codes = torch.eye(64).reshape(64, 8, 8)  # [C, h, w]

    def unique_features(backbone, latents, layers, ensemble, generator):
        return codes.expand(latents.shape[0], -1, -1, -1)

    monkeypatch.setattr(feature_matching, 'unet_features', unique_features)
    crop_xy = np.array([[9.5, 17.5], [25.5, 5.5], [5.5, 29.5]], np.float32)
    support = make_sample(
        'support', crop_xy, [1, 1, 1], center=(16, 16),
        scale=(32, 32))  # crop = image
    query = make_sample(
        'query', crop_xy * 0, [1, 1, 1], center=(100, 60), scale=(64, 64))
    images = torch.zeros(2, 3, CROP, CROP)
    out = model.predict_episode(images, [support, query])[0]
    expected = crop_to_image(crop_xy, (100, 60), (64, 64), (CROP, CROP))
    np.testing.assert_allclose(
        out.pred_instances.keypoints[0], expected,
        atol=1.5)  # half a crop pixel x 2


def test_real_features_run_and_unknown_layers_are_named(random_sd_dir):
    from mmppm.testing.synthetic_episodes import make_episode

    model = MODELS.build(
        feature_matching_cfg(
            random_sd_dir,
            feature_layers=['up_blocks.0', 'up_blocks.1'],
            ensemble=2))
    images, samples = make_episode(shots=2, queries=2, k=3)
    results = model.predict_episode(images, samples)
    assert len(results) == 2
    assert results[0].pred_instances.keypoints.shape == (1, 3, 2)
    again = model.predict_episode(images, samples)
    np.testing.assert_array_equal(results[1].pred_instances.keypoints,
                                  again[1].pred_instances.keypoints)
    with pytest.raises(ValueError, match="'up_blocks.9'.*choose e.g."):
        MODELS.build(
            feature_matching_cfg(
                random_sd_dir, feature_layers=['up_blocks.9']))


@pytest.mark.parametrize('ensemble', [0, 1.5, 'two'])
def test_ensemble_named_in_one_line_before_the_weights_load(
        tmp_path, ensemble):
    """No SD folder at all: the ensemble's error comes first."""
    with pytest.raises(ValueError, match=r'model.ensemble=.* is not allowed'):
        MODELS.build(
            feature_matching_cfg(str(tmp_path / 'missing'), ensemble=ensemble))
