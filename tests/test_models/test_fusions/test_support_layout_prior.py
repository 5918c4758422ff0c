# Copyright (c) mmppm contributors. All rights reserved.
import math

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS

from mmppm.models.fusions import FusionSequence, SupportLayoutPrior
from mmppm.models.utils import argmax_2d, image_to_crop, support_crop_keypoints
from mmppm.models.utils.layout_prior import (fit_similarity,
                                             gaussian_log_prior, layout_means,
                                             robust_similarity)
from mmppm.testing.ppm_configs import feature_matching_cfg
from mmppm.testing.synthetic_episodes import CROP, make_episode, make_sample

#: A mirror-symmetric layout (crop pixels): three axis points, then the
#: twins (left, right) at rows 3-4 and 5-6.
LAYOUT = torch.tensor([[16., 6.], [16., 14.], [16., 26.], [8., 12.],
                       [24., 12.], [10., 22.], [22., 22.]])


def similarity(points, angle, scale, shift):
    c, s = math.cos(angle), math.sin(angle)
    mat = scale * torch.tensor([[c, -s], [s, c]], dtype=torch.float64)
    return points.double() @ mat.T + torch.tensor(shift).double(), mat


def test_fit_similarity_recovers_a_known_transform():
    dst, mat = similarity(LAYOUT, 0.7, 1.3, (5., -3.))
    got_mat, got_shift = fit_similarity(LAYOUT, dst, torch.ones(7))
    torch.testing.assert_close(got_mat, mat)
    torch.testing.assert_close(
        got_shift,
        torch.tensor([5., -3.]).double() + 0 * got_shift)


def test_fit_similarity_never_mirrors():
    """A mirrored layout has no similarity: the best fit is not the
    mirror (determinant a^2 + b^2 > 0 always)."""
    mirrored = LAYOUT * torch.tensor([-1., 1.])
    mat, _ = fit_similarity(LAYOUT, mirrored, torch.ones(7))
    assert torch.det(mat) >= 0


def test_robust_fit_ignores_a_swapped_twin_pair():
    dst, mat = similarity(LAYOUT, -0.5, 0.9, (3., 2.))
    swapped = dst.clone()
    swapped[[3, 4]] = dst[[4, 3]]
    plain, _ = fit_similarity(LAYOUT, swapped, torch.ones(7))
    robust, _ = robust_similarity(
        LAYOUT, swapped, torch.ones(7, dtype=torch.bool), scale=2.)
    # the swapped pair pulls the plain fit 0.40 off; the robust one 0.012
    assert (plain - mat).abs().max() > 0.3
    assert (robust - mat).abs().max() < 0.015


def test_layout_means_average_the_supports_where_visible():
    dst, _ = similarity(LAYOUT, 0.3, 1.1, (2., 1.))
    other = LAYOUT + torch.tensor([1., -1.])  # the second support, shifted
    support_xy = torch.stack([LAYOUT, other])
    visible = torch.ones(2, 7, dtype=torch.bool)
    visible[0, 6] = False  # keypoint 6 only on support 1
    visible[:, 5] = False  # keypoint 5 on none
    places, has_place = layout_means(
        support_xy, visible, dst[None].float(), scale=100.)
    assert has_place.tolist() == [True] * 5 + [False, True]
    # support 0's carried layout is dst itself; support 1's fit maps its
    # shifted layout onto dst as well (a pure shift composes)
    torch.testing.assert_close(places[0, :5], dst[:5], atol=1e-6, rtol=0)
    torch.testing.assert_close(places[0, 6], dst[6], atol=1e-6, rtol=0)


def test_gaussian_log_prior_known_values():
    places = torch.tensor([[[2., 1.], [0., 0.]]], dtype=torch.float64)
    prior = gaussian_log_prior(places, torch.tensor([True, False]), 2., (3, 4))
    assert prior.shape == (1, 2, 3, 4)
    assert prior[0, 0, 1, 2] == 0  # at the place
    assert prior[0, 0, 1, 0] == pytest.approx(-4 / 8)  # 2 px away, sigma 2
    assert (prior[0, 1] == 0).all()  # no place: no preference


def _samples(points_crop, vis=None):
    """Supports whose crop keypoints are ``points_crop`` (make_sample's
    crop: centre (50, 40), scale 64 over CROP pixels)."""
    image = (np.asarray(points_crop) - CROP / 2) * (64. / CROP) + [50., 40.]
    return [
        make_sample('support', image,
                    np.ones(len(image)) if vis is None else vis)
    ]


def test_support_crop_keypoints_invert_the_crop():
    xy, visible = support_crop_keypoints(_samples(LAYOUT.numpy()))
    torch.testing.assert_close(torch.as_tensor(xy[0]), LAYOUT)
    assert visible.all()


def twin_maps(true_xy, wrong_bias=0.05):
    """Maps ``[1, 7, CROP, CROP]``: axis keypoints peak at their place;
    each twin's map peaks at both twins, the wrong one slightly higher."""
    maps = torch.full((1, 7, CROP, CROP), 0.01)
    xy = true_xy.round().long()
    for k in range(7):
        maps[0, k, xy[k, 1], xy[k, 0]] = 0.9
    for a, b in ((3, 4), (5, 6)):
        maps[0, a, xy[b, 1], xy[b, 0]] = 0.9 + wrong_bias
        maps[0, b, xy[a, 1], xy[a, 0]] = 0.9 + wrong_bias
    return maps


def test_prior_picks_the_twin_the_layout_says():
    true_xy, _ = similarity(LAYOUT - 16, 0.4, 0.9, (16., 16.))
    maps = twin_maps(true_xy.float())
    before = argmax_2d(maps)[0][0]
    # the maps alone swap both pairs
    assert (before[3] - true_xy[4].round().float()).abs().max() == 0
    prior = SupportLayoutPrior(sigma=0.1, scale=0.2, rounds=2)
    out = prior(None, None, _samples(LAYOUT.numpy()), maps, None)
    after = argmax_2d(out)[0][0]
    torch.testing.assert_close(after, true_xy.round().float())
    torch.testing.assert_close(out.sum((-2, -1)), torch.ones(1, 7))


def test_keypoint_hidden_in_every_support_keeps_its_map():
    true_xy, _ = similarity(LAYOUT - 16, 0.4, 0.9, (16., 16.))
    maps = twin_maps(true_xy.float())
    vis = np.ones(7)
    vis[3] = 0
    out = SupportLayoutPrior()(None, None, _samples(LAYOUT.numpy(), vis), maps,
                               None)
    after = argmax_2d(out)[0][0]
    # keypoint 3 has no place: its map's own (wrong) maximum stays;
    # its twin 4 is corrected
    torch.testing.assert_close(after[3], true_xy[4].round().float())
    torch.testing.assert_close(after[4], true_xy[4].round().float())


@pytest.mark.parametrize('cfg,message', [
    (dict(sigma=0), 'model.fusion.sigma'),
    (dict(scale=float('inf')), 'model.fusion.scale'),
    (dict(rounds=0), 'model.fusion.rounds'),
])
def test_bad_arguments_named_in_one_line(cfg, message):
    with DefaultScope.overwrite_default_scope('mmpose'):
        with pytest.raises(ValueError, match=message):
            MODELS.build(dict(type='SupportLayoutPrior', **cfg))


def _fm(sd_dir, **kwargs):
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.build(feature_matching_cfg(sd_dir, seed=0, **kwargs))


def test_feature_matching_with_the_prior_decodes_the_prior_maps(random_sd_dir):
    """A list config builds a FusionSequence (errors name the item); on
    feature matching it equals the prior applied to the plain maps."""
    images, samples = make_episode(shots=1, queries=2, k=4, seed=5)
    plain = _fm(random_sd_dir).predict_episode(
        images, samples, output_heatmaps=True)
    fused = _fm(
        random_sd_dir, fusion=[dict(type='SupportLayoutPrior', sigma=0.2)])
    assert isinstance(fused.fusion, FusionSequence)
    got = np.stack([
        r.pred_instances.keypoints[0]
        for r in fused.predict_episode(images, samples)
    ])
    maps = torch.stack(
        [torch.as_tensor(r.pred_fields.heatmaps) for r in plain])
    expected = SupportLayoutPrior(sigma=0.2)(None, None, samples[:1], maps,
                                             None)
    xy = argmax_2d(expected)[0].numpy()
    want = np.stack([(xy[q] - CROP / 2) * (64. / CROP) + [50., 40.]
                     for q in range(2)])
    np.testing.assert_allclose(got, want, atol=1e-4)
    with pytest.raises(ValueError, match=r'model.fusion\[0\].sigma'):
        _fm(random_sd_dir, fusion=[dict(type='SupportLayoutPrior', sigma=-1)])


def test_image_to_crop_round_trip_of_the_helper():
    pts = _samples(LAYOUT.numpy())[0].gt_instances.keypoints[0]
    back = image_to_crop(pts, np.array([50., 40.]), np.array([64., 64.]),
                         (CROP, CROP))
    np.testing.assert_allclose(back, LAYOUT.numpy(), atol=1e-5)
