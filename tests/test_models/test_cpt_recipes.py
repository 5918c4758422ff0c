# Copyright (c) mmppm contributors. All rights reserved.
"""CPT's recipes and options with known answers (docs/cpt.md): the episodic
recipe's inner fit is the test-time fit; a Phi that is the identity on P is
plain PPM; per-group learning rates reach the optimiser; recipe and train
dataset must agree."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpose.registry import MODELS

import mmppm.models.pose_estimators.cpt.episodic_recipe as cpt_module
from mmppm.testing.ppm_configs import estimator_cfg
from mmppm.testing.synthetic_episodes import make_episode
from mmppm.utils.errors import ConfigError, UserError
from mmppm.utils.value_checks import check_values

EPISODIC_CFG = 'configs/cpt/ppm_cpt_toy-sd_mp100-bench_episodic.py'
PAPER_CFG = 'configs/cpt/ppm_cpt_toy-sd_mp100-bench_paper.py'
TUNED_CFG = 'configs/cpt/ppm_cpt_toy-sd_toy.py'

pytestmark = pytest.mark.usefixtures('one_thread')

RECIPES = dict(paper='PaperCPTRecipe', episodic='EpisodicCPTRecipe')


def build_model(sd_dir, prompt_encoder=None, recipe='paper', **test_cfg):
    return MODELS.build(
        estimator_cfg(
            sd_dir,
            head=dict(
                type='PromptMatchingHead',
                loss=dict(type='NormalizedCEMapLoss')),
            fitter=dict(
                type='PromptFitter',
                steps=4,
                lr=0.05,
                map_mode=dict(type='CachedMaps', max_batch=64)),
            prompt_encoder=prompt_encoder,
            train_cfg=dict(
                recipe=dict(type=RECIPES.get(recipe, recipe)),
                map_mode=dict(type='CachedMaps')),
            test_cfg=dict(dict(seed=0), **test_cfg)))


def spy_fits(model, monkeypatch):
    """Record every FitResult of ``model.fit_prompts``."""
    fits = []
    original = model.fit_prompts

    def spy(*args, **kwargs):
        fits.append(original(*args, **kwargs))
        return fits[-1]

    monkeypatch.setattr(model, 'fit_prompts', spy)
    return fits


def test_episodic_inner_fit_is_the_test_time_fit(random_sd_dir, monkeypatch):
    model = build_model(
        random_sd_dir,
        dict(type='SharedPromptMLP', residual=False),
        recipe='episodic')
    images, samples = make_episode(shots=1, queries=2, k=3, seed=4)
    fits = spy_fits(model, monkeypatch)
    episode_id = samples[0].metainfo['episode_id']
    # the training episode's generator is the test-time one of this episode
    monkeypatch.setattr(
        cpt_module, 'episode_generator', lambda m, i: torch.Generator().
        manual_seed(model.test_cfg['seed'] + episode_id))
    losses = model.loss([images], [samples])
    model.predict_episode(images, samples, fit_diagnostics=False)
    train_fit, test_fit = fits
    assert train_fit.steps == test_fit.steps == 4
    torch.testing.assert_close(
        train_fit.prompts, test_fit.prompts, rtol=0, atol=0)
    assert train_fit.losses == test_fit.losses
    # the query loss reaches P_bar and Phi, not through the fit (first order)
    losses['loss_map'].backward()
    encoder = model.prompt_encoder
    assert encoder.shared_prompt.grad is not None
    assert encoder.shared_prompt.grad.abs().sum() > 0
    assert all(p.grad is not None for p in encoder.mlp.parameters())
    assert float(losses['fit_steps']) == 4
    # per prompt: the fit's loss sums over the 3 keypoints' prompts
    assert float(losses['fit_map']) == pytest.approx(train_fit.map_losses[-1] /
                                                     3)


def test_identity_phi_is_plain_ppm(random_sd_dir):
    """Residual Phi with its last layer set to zero by hand: context = P
    exactly, so PPM+CPT predicts what plain PPM predicts."""
    images, samples = make_episode(shots=1, queries=2, k=3, seed=2)
    plain = build_model(random_sd_dir).predict_episode(images, samples)
    model = build_model(random_sd_dir,
                        dict(type='SharedPromptMLP', residual=True))
    encoder = model.prompt_encoder
    with torch.no_grad():
        encoder.shared_prompt.normal_()  # anything: Phi's output is zero
        encoder.mlp[0].weight.normal_()
        encoder.mlp[-1].weight.zero_()
        encoder.mlp[-1].bias.zero_()
    model.prompt_encoder_ready = True
    prompts = torch.randn(5, 1, encoder.embed_dims)
    assert torch.equal(model.context(prompts), prompts)
    cpt = model.predict_episode(images, samples)
    for a, b in zip(plain, cpt):
        np.testing.assert_array_equal(a.pred_instances.keypoints,
                                      b.pred_instances.keypoints)
        assert a.metainfo['fit_losses'] == b.metainfo['fit_losses']
    # and a non-zero last layer changes the fit
    with torch.no_grad():
        encoder.mlp[-1].weight.normal_()
    moved = model.predict_episode(images, samples)
    assert moved[0].metainfo['fit_losses'] != plain[0].metainfo['fit_losses']


def test_per_group_learning_rates_reach_the_optimiser(random_sd_dir):
    cfg = Config.fromfile(TUNED_CFG)
    model = build_model(random_sd_dir, dict(type='SharedPromptMLP'))
    c = model.backbone.cross_attention_dim
    model.base_prompts = torch.nn.Parameter(torch.zeros(7, 1, c))
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    base_lr = cfg.optim_wrapper.optimizer.lr
    keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    lr_of = {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            lr_of[names[id(p)]] = group['lr']
    assert lr_of['base_prompts'] == pytest.approx(
        base_lr * keys['base_prompts']['lr_mult'])
    assert lr_of['prompt_encoder.mlp.0.weight'] == pytest.approx(base_lr)
    assert lr_of['prompt_encoder.shared_prompt'] == pytest.approx(base_lr)
    assert lr_of['base_prompts'] > 10 * base_lr


def test_recipe_and_train_dataset_must_agree():
    cfg = Config.fromfile(EPISODIC_CFG)
    check_values(cfg)  # the shipped configs pass
    check_values(Config.fromfile(PAPER_CFG))
    cfg.train_dataloader.dataset.mode = 'train'
    with pytest.raises(
            ConfigError,
            match="^model.train_cfg.recipe.type='EpisodicCPTRecipe' trains "
            "on episodes but train_dataloader.dataset.mode='train'; set "
            'train_dataloader.dataset.mode=val'):
        check_values(cfg)
    cfg = Config.fromfile(PAPER_CFG)
    cfg.train_dataloader.dataset.mode = 'val'
    with pytest.raises(
            ConfigError,
            match="^model.train_cfg.recipe.type='PaperCPTRecipe' trains on "
            "single instances but train_dataloader.dataset.mode='val'; .*"
            r"recipe=dict\(type='EpisodicCPTRecipe'\) to train on "):
        check_values(cfg)


def test_recipe_values_are_checked(random_sd_dir):
    with pytest.raises(
            UserError,
            match=r"^model.train_cfg.recipe.type='EpisodicCPTRecip' is not a "
            r"registered CPTRecipe \(valid: \['EpisodicCPTRecipe', "
            r"'PaperCPTRecipe'\]\); did you mean 'EpisodicCPTRecipe'\?$"):
        build_model(
            random_sd_dir,
            dict(type='SharedPromptMLP'),
            recipe='EpisodicCPTRecip')
    with pytest.raises(UserError, match='leave model.train_cfg.num_base'):
        MODELS.build(
            estimator_cfg(
                random_sd_dir,
                prompt_encoder=dict(type='SharedPromptMLP'),
                train_cfg=dict(
                    recipe=dict(type='EpisodicCPTRecipe'),
                    num_base_keypoints=5)))


def test_a_recipe_fed_the_other_data_names_the_fix(random_sd_dir):
    model = build_model(
        random_sd_dir, dict(type='SharedPromptMLP'), recipe='episodic')
    with pytest.raises(UserError, match='needs a train dataset of episodes'):
        model.loss(torch.zeros(2, 3, 32, 32), [])
