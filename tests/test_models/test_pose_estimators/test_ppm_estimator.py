import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.map_modes import ExactMaps, maps_from_queries
from mmppm.models.utils import crop_to_image
from mmppm.testing.ppm_configs import build_ppm_estimator as build_model
from mmppm.testing.ppm_configs import estimator_cfg
from mmppm.testing.synthetic_episodes import (CROP, fit_inputs, make_episode,
                                              make_sample)

pytestmark = pytest.mark.usefixtures('one_thread')


def test_loss_falls_and_predictions_in_image_pixels(random_sd_dir):
    model = build_model(random_sd_dir, steps=15)
    images, samples = make_episode()
    results = model.predict_episode(images, samples)
    losses = results[0].metainfo['fit_losses']  # in every query's metainfo
    assert len(losses) == 15 and losses[-1] < losses[0]
    assert results[1].metainfo['fit_losses'] == losses
    assert results[0].metainfo['fit_steps'] == 15
    assert not hasattr(model, 'last_episode_losses')  # nothing left behind
    assert len(results) == 2
    for r in results:
        assert r.pred_instances.keypoints.shape == (1, 3, 2)
        assert r.pred_instances.keypoint_scores.shape == (1, 3)
        # crop (0..32) -> image: centre 50,40 scale 64 -> [18, 82) x [8, 72)
        kp = r.pred_instances.keypoints[0]
        assert (kp[:, 0] >= 18).all() and (kp[:, 0] < 82).all()
        assert (kp[:, 1] >= 8).all() and (kp[:, 1] < 72).all()


def test_known_crop_to_image_mapping(random_sd_dir, monkeypatch):
    model = build_model(random_sd_dir, steps=0)
    images, samples = make_episode(k=2)

    def fake_maps(latents, prompts, map_size, generator):
        maps = torch.zeros(latents.shape[0], prompts.shape[0], *map_size)
        maps[:, 0, 5, 20] = 1  # y=5, x=20
        maps[:, 1, 31, 0] = 1
        return maps

    monkeypatch.setattr(model, 'query_maps', fake_maps)
    r = model.predict_episode(images, samples)[0]
    # x = 20 / 32 * 64 + 50 - 32 = 58, y = 5 / 32 * 64 + 40 - 32 = 18;
    # (0, 31) -> (0 + 18, 62 + 8)
    np.testing.assert_allclose(r.pred_instances.keypoints[0],
                               [[58., 18.], [18., 70.]])
    np.testing.assert_allclose(
        crop_to_image(np.array([[20., 5.]]), (50, 40), (64, 64), (32, 32)),
        [[58., 18.]])


def test_same_seed_same_predictions(random_sd_dir):
    model = build_model(random_sd_dir)
    images, samples = make_episode(seed=1)
    a = model.predict_episode(images, samples)
    b = model.predict_episode(images, samples)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.pred_instances.keypoints,
                                      y.pred_instances.keypoints)


def test_invisible_support_keypoint_changes_nothing(random_sd_dir):
    model = build_model(random_sd_dir)
    images, samples = make_episode(vis=[[1, 0, 1]], seed=2)
    before = list(
        model.predict_episode(images, samples)[0].metainfo['fit_losses'])
    # move the invisible keypoint's target anywhere: the loss is unchanged
    moved = make_sample('support', [[1, 1], [30, 30], [2, 2]], [1, 0, 1])
    moved.gt_instances.keypoints[0][[0, 2]] = \
        samples[0].gt_instances.keypoints[0][[0, 2]]
    moved.gt_fields.heatmaps[[0, 2]] = samples[0].gt_fields.heatmaps[[0, 2]]
    after = model.predict_episode(images, [moved] + samples[1:])
    assert after[0].metainfo['fit_losses'] == before


def test_five_shot_runs_and_batches(random_sd_dir):
    model = build_model(random_sd_dir, steps=2, max_batch=4)
    vis = [[1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0], [1, 1, 1]]
    images, samples = make_episode(shots=5, queries=1, vis=vis, seed=3)
    results = model.predict_episode(images, samples)
    assert len(results) == 1
    # max_batch chunks (4 pairs) give the same loss as one batch of 12
    one = build_model(random_sd_dir, steps=2, max_batch=64)
    whole = one.predict_episode(images, samples)
    np.testing.assert_allclose(
        results[0].metainfo['fit_losses'],
        whole[0].metainfo['fit_losses'],
        rtol=1e-5)


def test_nan_loss_names_the_episode(random_sd_dir, monkeypatch):
    model = build_model(random_sd_dir)
    images, samples = make_episode()
    real_loss = model.head.loss

    def nan_loss(*args, **kwargs):
        losses = real_loss(*args, **kwargs)
        losses['loss_map'] = losses['loss_map'] * float('nan')
        return losses

    monkeypatch.setattr(model.head, 'loss', nan_loss)
    with pytest.raises(FloatingPointError, match='episode 3'):
        model.predict_episode(images, samples)


def test_cached_maps_equal_exact_maps_for_the_caching_context(random_sd_dir):
    model = build_model(random_sd_dir)
    b = model.backbone
    g = torch.Generator().manual_seed(4)
    latents = b.encode(torch.rand(2, 3, CROP, CROP, generator=g) * 2 - 1)
    noisy, _ = b.add_noise(latents, g)
    ctx = torch.randn(1, 1, b.cross_attention_dim, generator=g)
    queries = b.layer_queries(noisy, ctx.expand(2, -1, -1))
    cached = maps_from_queries(b, queries, ctx, torch.tensor([0, 1]),
                               torch.tensor([0, 0]), (CROP, CROP))
    exact = b(noisy, ctx.expand(2, -1, -1), (CROP, CROP))['maps'][:, 0]
    torch.testing.assert_close(cached, exact, atol=1e-5, rtol=1e-4)


def test_cached_mode_runs(random_sd_dir):
    model = build_model(random_sd_dir, map_mode='CachedMaps', steps=5)
    images, samples = make_episode(seed=5)
    results = model.predict_episode(images, samples)
    assert len(results) == 2
    losses = results[0].metainfo['fit_losses']
    assert losses[-1] < losses[0]


def test_predict_supports_predicts_the_supports(random_sd_dir):
    model = build_model(random_sd_dir, predict_supports=True)
    images, samples = make_episode(shots=2, queries=1)
    results = model.predict_episode(images, samples)
    assert len(results) == 2
    assert all(r.metainfo['episode_role'] == 'query' for r in results)
    assert results[0].metainfo['support_keypoints_visible'].shape == (2, 3)


def test_support_copy_baseline_known_answer():
    model = MODELS.build(dict(type='SupportCopyBaseline'))
    kp = [[10., 5.], [20., 30.]]
    support = make_sample('support', kp, [1, 1])
    # same crop position, query bbox twice as large and shifted
    query = make_sample(
        'query', kp, [1, 1], center=(150., 90.), scale=(128., 128.))
    out = model(None, [[support, query]], mode='predict')[0]
    crop = (np.asarray(kp) - (50 - 32, 40 - 32)) / 64 * CROP
    expected = crop / CROP * 128 + np.array([150., 90.]) - 64
    np.testing.assert_allclose(
        out.pred_instances.keypoints[0], expected, rtol=1e-5)


def test_bad_test_cfg(random_sd_dir):
    with pytest.raises(ValueError, match="model.test_cfg has no key"):
        build_model(random_sd_dir, stepz=3)
    with pytest.raises(ValueError, match='map_mode.type='):
        build_model(random_sd_dir, map_mode='fast')


def test_support_without_heatmaps_names_the_fix(random_sd_dir):
    model = build_model(random_sd_dir)
    images, samples = make_episode()
    del samples[0].gt_fields
    with pytest.raises(ValueError, match='GenerateTarget'):
        model.predict_episode(images, samples)


def test_shared_context_variant(random_sd_dir):
    model = build_model(random_sd_dir, map_mode='SharedContextMaps', steps=8)
    images, samples = make_episode(
        shots=2, queries=2, seed=6, vis=[[1, 1, 0], [1, 0, 1]])
    results = model.predict_episode(images, samples)
    assert len(results) == 2
    assert results[0].pred_instances.keypoints.shape == (1, 3, 2)
    losses = results[0].metainfo['fit_losses']
    assert len(losses) == 8 and losses[-1] < losses[0]


@pytest.mark.parametrize('map_mode', ['ExactMaps', 'SharedContextMaps'])
def test_early_stop_ends_the_optimisation_on_a_plateau(random_sd_dir,
                                                       map_mode):
    # No step can improve the map loss by 99.9%: the optimisation stops
    # after patience + 1 steps; without early_stop it takes all 6.
    images, samples = make_episode()
    steps = {}
    for patience in (None, 1, 3):
        stop = None if patience is None else dict(
            patience=patience, min_rel_improvement=0.999)
        model = build_model(
            random_sd_dir, steps=6, early_stop=stop, map_mode=map_mode)
        meta = model.predict_episode(images, samples)[0].metainfo
        assert len(meta['fit_map_losses']) == len(meta['fit_losses'])
        steps[patience] = len(meta['fit_losses'])
    assert steps == {None: 6, 1: 2, 3: 4}


def test_early_stop_keeps_the_same_first_steps(random_sd_dir):
    images, samples = make_episode()
    full = build_model(random_sd_dir, steps=6)
    full_losses = full.predict_episode(images,
                                       samples)[0].metainfo['fit_losses']
    early = build_model(
        random_sd_dir,
        steps=6,
        early_stop=dict(patience=2, min_rel_improvement=0.999))
    early_losses = early.predict_episode(images,
                                         samples)[0].metainfo['fit_losses']
    assert early_losses == full_losses[:3]


@pytest.mark.parametrize('bad,match', [
    (dict(patience=0, min_rel_improvement=0.1), 'patience'),
    (dict(patience=2.5, min_rel_improvement=0.1), 'patience'),
    (dict(patience=2, min_rel_improvement=1.0), 'min_rel_improvement'),
    (dict(patience=2), 'dict\\(patience=N'),
    (10, 'dict\\(patience=N'),
])
def test_bad_early_stop_cfg(random_sd_dir, bad, match):
    with pytest.raises(ValueError, match=match):
        build_model(random_sd_dir, early_stop=bad)


def build_cpt_model(sd_dir):
    return MODELS.build(
        estimator_cfg(
            sd_dir,
            prompt_encoder=dict(type='SharedPromptMLP'),
            fitter=dict(type='PromptFitter', steps=1)))


def test_cpt_model_without_loaded_encoder_is_an_error(random_sd_dir):
    model = build_cpt_model(random_sd_dir)
    images, samples = make_episode()
    with pytest.raises(ValueError, match='no checkpoint was loaded'):
        model.predict_episode(images, samples)
    model.test_cfg['allow_untrained_prompt_encoder'] = True
    assert len(model.predict_episode(images, samples)) == 2
    # loading P_bar and Phi from a checkpoint makes it ready
    ready = build_cpt_model(random_sd_dir)
    ready.load_state_dict(model.state_dict())
    assert len(ready.predict_episode(images, samples)) == 2


@pytest.mark.parametrize('key,value,match', [
    ('steps', 'abc', 'steps must be an integer'),
    ('lr', 'fast', 'lr must be a number'),
    ('lr', 1e38, 'lr must be a number'),
    ('max_batch', 0, 'max_batch must be an integer'),
    ('prompt_init_std', -1, 'prompt_init_std'),
])
def test_bad_test_cfg_types_fail_when_the_model_is_built(
        random_sd_dir, key, value, match):
    with pytest.raises(ValueError, match=match):
        build_model(random_sd_dir, **{key: value})


def test_prompt_scale_none_is_the_raw_prompt_and_auto_inverts_the_spread(
        random_sd_dir):
    images, samples = make_episode(seed=4)
    raw = build_model(random_sd_dir)
    assert raw.fitter.scale_for(raw.bound_map_mode(), torch.zeros(1, 4, 8,
                                                                  8)) == 1.0
    fixed = build_model(random_sd_dir, prompt_scale=2.5)
    assert fixed.fitter.scale_for(fixed.bound_map_mode(),
                                  torch.zeros(1, 4, 8, 8)) == 2.5
    auto = build_model(random_sd_dir, prompt_scale='auto')
    latents = auto.backbone.encode(images[:1])
    noisy, _ = auto.backbone.add_noise(latents,
                                       torch.Generator().manual_seed(0))
    cached = auto.backbone.layer_queries(noisy, torch.zeros(1, 1, 32))
    spread = auto.backbone.logit_sensitivity(cached)
    assert auto.fitter.scale_for(auto.bound_map_mode(),
                                 latents) == pytest.approx(1 / spread)
    assert len(auto.predict_episode(images, samples)) == 2
    with pytest.raises(ValueError, match='prompt_scale'):
        build_model(random_sd_dir, prompt_scale='big')


def test_fitter_and_mode_built_apart_equal_the_configured_ones(random_sd_dir):
    """The benchmark's path: a PromptFitter and a map mode built with other
    values than the model's config give what a model configured with those
    values gives, and the model's test_cfg is not touched."""
    from mmppm.models.fitters import PromptFitter
    from mmppm.models.map_modes import SharedContextMaps
    model = build_model(random_sd_dir)
    configured = build_model(
        random_sd_dir, steps=2, max_batch=2, map_mode='SharedContextMaps')
    before = dict(model.test_cfg)
    images, targets, visible = fit_inputs()
    mode = SharedContextMaps(max_batch=2).bind(model.backbone, model.context,
                                               model.autocast)
    fitter = PromptFitter(
        steps=2,
        lr=model.fitter.lr,
        prompt_init_std=model.fitter.prompt_init_std)
    results = []
    for m, fit_mode, fit_with in [(configured, configured.bound_map_mode(),
                                   configured.fitter), (model, mode, fitter)]:
        latents = m.backbone.encode(images)
        g = torch.Generator().manual_seed(0)
        fit = fit_with.fit(fit_mode, m.head, latents[:2], targets, visible, g)
        maps = fit_mode.query_maps(latents[2:], fit.prompts, (CROP, CROP), g)
        results.append((list(fit.losses), fit.prompts, maps))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    torch.testing.assert_close(results[0][1], results[1][1])
    torch.testing.assert_close(results[0][2], results[1][2])
    assert model.test_cfg == before  # nothing written into test_cfg
    assert isinstance(model.bound_map_mode(), ExactMaps)
    with pytest.raises(ValueError, match='map_mode.type='):
        build_model(random_sd_dir, map_mode='fast')
    with pytest.raises(ValueError, match='max_batch'):
        build_model(random_sd_dir, max_batch=0)
    with pytest.raises(ValueError, match='steps'):
        PromptFitter(steps=-1)


@pytest.mark.parametrize('map_mode', ['CachedMaps', 'ExactMaps'])
def test_cpt_fit_with_more_pairs_than_max_batch(random_sd_dir, map_mode):
    """PPM+CPT chunked over max_batch: no graph shared between chunks
    (cached maps failed with 'backward through the graph a second time'),
    and the chunked fit equals the one-chunk fit."""

    def fitted(max_batch):
        torch.manual_seed(0)  # the same random Phi in both models
        model = MODELS.build(
            estimator_cfg(
                random_sd_dir,
                prompt_encoder=dict(type='SharedPromptMLP'),
                fitter=dict(
                    type='PromptFitter',
                    steps=2,
                    lr=0.05,
                    map_mode=dict(type=map_mode, max_batch=max_batch)),
                test_cfg=dict(allow_untrained_prompt_encoder=True)))
        images, targets, visible = fit_inputs()
        latents = model.backbone.encode(images[:2])
        with torch.enable_grad():
            return model.fit_prompts(latents, targets, visible,
                                     torch.Generator().manual_seed(0)).prompts

    torch.testing.assert_close(fitted(2), fitted(64), rtol=1e-4, atol=1e-5)
