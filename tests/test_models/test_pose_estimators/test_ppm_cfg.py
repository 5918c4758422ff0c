"""The estimator's config layout: nested fitter / map mode / head loss, and
a one-line error for every key of the flat layout saying where it moved."""
import pytest
from mmpose.registry import MODELS

from mmppm.models.pose_estimators.ppm_cfg import (DEFAULT_TEST_CFG,
                                                  check_test_cfg,
                                                  check_train_cfg)
from mmppm.testing.ppm_configs import estimator_cfg


@pytest.mark.parametrize('key,moved', [
    ('steps', 'model.fitter.steps'),
    ('lr', 'model.fitter.lr'),
    ('prompt_init_std', 'model.fitter.prompt_init_std'),
    ('prompt_scale', 'model.fitter.prompt_scale'),
    ('early_stop', 'model.fitter.early_stop'),
    ('max_batch', 'model.fitter.map_mode.max_batch'),
    ('map_features', 'model.fitter.map_mode'),
])
def test_flat_test_cfg_keys_say_where_they_moved(key, moved):
    with pytest.raises(
            ValueError, match=f'^model.test_cfg.{key} moved to {moved}'):
        check_test_cfg({key: 1})


def test_flat_train_cfg_key_says_where_it_moved():
    with pytest.raises(
            ValueError,
            match=(r"^model.train_cfg.map_features moved to model.train_cfg."
                   r"map_mode \(dict\(type='ExactMaps'\) or 'CachedMaps'\)$")):
        check_train_cfg(dict(map_features='cached'))


def test_head_map_loss_says_where_it_moved(random_sd_dir):
    with pytest.raises(
            ValueError,
            match=(r"^model.head.map_loss moved to model.head.loss "
                   r"\(dict\(type='MSEMapLoss'\), 'BalancedMSEMapLoss' or "
                   r"'NormalizedCEMapLoss'\)$")):
        MODELS.build(
            estimator_cfg(
                random_sd_dir,
                head=dict(type='PromptMatchingHead', map_loss='mse')))


def test_fit_keys_are_not_test_cfg_keys():
    for key in ('steps', 'lr', 'prompt_init_std', 'prompt_scale', 'early_stop',
                'max_batch', 'map_features'):
        assert key not in DEFAULT_TEST_CFG


def test_train_map_mode_is_checked():
    assert check_train_cfg(dict(map_mode=dict(
        type='CachedMaps')))['map_mode'] == dict(type='CachedMaps')
    msg = (r"^model.train_cfg.map_mode.type='SharedContextMaps': CPT trains "
           r"with \['ExactMaps', 'CachedMaps'\]")
    with pytest.raises(ValueError, match=msg):
        check_train_cfg(dict(map_mode=dict(type='SharedContextMaps')))
    with pytest.raises(
            ValueError,
            match=(
                r"^model.train_cfg.map_mode.type='Cached' is not a registered "
                r'MapMode')):
        check_train_cfg(dict(map_mode=dict(type='Cached')))
    with pytest.raises(ValueError, match='max_batch is not used'):
        check_train_cfg(dict(map_mode=dict(type='ExactMaps', max_batch=2)))


def test_unknown_fitter_key_lists_the_valid_ones(random_sd_dir):
    msg = (r"^Unknown model.fitter keys \['stepz'\] for "
           r"type='PromptFitter'; valid: \['early_stop', 'lr', 'map_mode', "
           r"'prompt_init_std', 'prompt_scale', 'shots_per_step', "
           r"'steps'\]$")
    with pytest.raises(ValueError, match=msg):
        MODELS.build(
            estimator_cfg(
                random_sd_dir, fitter=dict(type='PromptFitter', stepz=3)))
