# Copyright (c) mmppm contributors. All rights reserved.
"""Config typos: one line naming the key and the nearest valid one."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmppm.utils.config_checks import (check_components, check_override_keys,
                                       nearest)
from mmppm.utils.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    str(p) for p in [
        *(REPO / 'configs').rglob('*.py'), *(
            REPO / 'projects').glob('*/configs/**/*.py')
    ] if '_base_' not in p.parts)
TOY = str(REPO / 'configs/ppm/ppm_toy-sd_1shot_toy.py')


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_every_shipped_config_passes(path):
    check_components(Config.fromfile(path))


def test_nearest():
    assert nearest('test_dataloaderr', ['test_dataloader', 'model']) == \
        "; did you mean 'test_dataloader'?"
    assert nearest('zzz', ['model']) == ''


@pytest.mark.parametrize('key, match', [
    ('test_dataloaderr.batch_size', r"the config has no key "
     r"'test_dataloaderr'; did you mean 'test_dataloader'\?"),
    ('test_dataloader.datasett.num_episodes', r"test_dataloader has no key "
     r"'datasett'; did you mean 'dataset'\?"),
    ('model.backbone.pretrained.x', r"model.backbone.pretrained is str"),
])
def test_override_of_a_missing_key(key, match):
    with pytest.raises(ConfigError, match=match):
        check_override_keys(Config.fromfile(TOY), {key: 1})


def test_new_component_arguments_and_list_indices_are_allowed():
    cfg = Config.fromfile(TOY)
    check_override_keys(
        cfg, {
            'model.backbone.gradient_checkpointing': True,
            'test_dataloader.dataset.pipeline.0.x': 1,
            'work_dir': 'w'
        })
    with pytest.raises(ConfigError, match='has only'):
        check_override_keys(cfg, {'test_dataloader.dataset.pipeline.99.x': 1})


@pytest.mark.parametrize(
    'edit, match',
    [
        (('test_dataloader', 'dataset', 'num_episode', 3),
         r"test_dataloader.dataset \(MP100Dataset\) has no argument "
         r"'num_episode'; did you mean 'num_episodes'\?"),
        (('model', 'backbone', 'pretrainedd', 'x'),
         r"model.backbone \(SDCrossAttnBackbone\) has no argument "
         r"'pretrainedd'; did you mean 'pretrained'\?"),
        (('test_evaluator', 'thrz', (0.1, )),
         r"test_evaluator \(EpisodicPCK\) has no argument 'thrz'; did you "
         r"mean 'thrs'\?"),
        (('model', 'type', 'Nope'),
         r"model.type='Nope' is not a registered model type"),
        (('test_evaluator', 'type', 'EpisodicPCKK'),
         r"not a registered metric type; did you mean 'EpisodicPCK'\?"),
        (('test_dataloader', 'dataset', 'pipeline', 'abc'),
         r'test_dataloader.dataset.pipeline must be a list of transform'),
        # the test loop's arguments (was: a TypeError once the Runner built it)
        (('test_cfg', 'cache_dirr', '/tmp/x'),
         r"test_cfg \(ResumableTestLoop\) has no argument 'cache_dirr'; "
         r"did you mean 'cache_dir'\?"),
        (('test_cfg', 'type', 'ResumableTestLoopp'),
         r"test_cfg.type='ResumableTestLoopp' is not a registered loop type"),
        # the nested PPM components, found by walking the config
        (('model', 'fitter', 'map_mode', 'type', 'Cached'),
         r"^model.fitter.map_mode.type='Cached' is not a registered model "
         r"type; did you mean 'CachedMaps'\?$"),
        (('model', 'fitter', 'stepz', 3),
         r"model.fitter \(PromptFitter\) has no argument 'stepz'; did you "
         r"mean 'steps'\?"),
        (('model', 'fitter', 'map_mode', 'max_batchh', 3),
         r"model.fitter.map_mode \(CachedMaps\) has no argument "
         r"'max_batchh'; did you mean 'max_batch'\?"),
        (('model', 'head', 'loss', 'type', 'MSEMapLos'),
         r"^model.head.loss.type='MSEMapLos' is not a registered model "
         r"type; did you mean 'MSEMapLoss'\?$"),
        (('model', 'head', 'map_loss', 'mse'),
         r"^model.head \(PromptMatchingHead\) has no argument 'map_loss'; "
         r"did you mean 'loss'\?"),
        # a codec nested in a pipeline step (KEYPOINT_CODECS)
        (('test_dataloader', 'dataset', 'pipeline', 3, 'encoder', 'sigmaa',
          2.0), r"pipeline\[3\].encoder \(MSRAHeatmap\) has no argument "
         r"'sigmaa'; did you mean 'sigma'\?"),
    ])
def test_component_typos(edit, match):
    cfg = Config.fromfile(TOY)
    *path, key, value = edit
    node = cfg
    for p in path:
        node = node[p]
    node[key] = value
    with pytest.raises(ConfigError, match=match):
        check_components(cfg)


@pytest.mark.parametrize(
    'edit, match',
    [
        # a registered model of another kind where a map mode must go: the
        # fitter's builder says which kind (before the SD weights load)
        (('model', 'fitter', 'map_mode', dict(type='PromptMatchingHead')),
         r"^model.fitter.map_mode.type='PromptMatchingHead' is not a "
         r"registered MapMode \(valid: \['CachedMaps', 'ExactMaps', "
         r"'SharedContextMaps'\]\)$"),
        (('model', 'head', 'loss', dict(type='KeypointMSELoss')),
         r"^model.head.loss.type='KeypointMSELoss' is not a registered "
         r"MapLoss \(valid: \['BalancedMSEMapLoss', 'MSEMapLoss', "
         r"'NormalizedCEMapLoss'\]\)$"),
        (('model', 'test_cfg', dict(steps=3)),
         r"^model.test_cfg has no key 'steps' \(valid: "),
    ])
def test_the_builder_checks_the_kind_of_a_part(edit, match):
    """A part of the wrong registered kind passes the walk (it is a
    registered model) and is refused by the component that builds it, in
    one line, before the SD folder (here missing) is read."""
    from mmpose.registry import MODELS
    cfg = Config.fromfile(TOY)
    *path, key, value = edit
    node = cfg
    for p in path:
        node = node[p]
    node[key] = value
    cfg.model.backbone.pretrained = '/no/sd'
    check_components(cfg)
    with pytest.raises(ConfigError, match=match), \
            DefaultScope.overwrite_default_scope('mmpose'):
        MODELS.build(cfg.model)


def test_a_transform_typo_is_named():
    cfg = Config.fromfile(TOY)
    cfg.test_dataloader.dataset.pipeline[1]['paddingg'] = 1.25
    with pytest.raises(
            ConfigError,
            match=r"pipeline\[1\] "
            r"\(GetBBoxCenterScale\) has no argument 'paddingg'"):
        check_components(cfg)


@pytest.mark.parametrize('option, match', [
    ('test_dataloaderr.batch_size=1', "did you mean 'test_dataloader'"),
    ('test_dataloader.dataset.num_episode=1', "did you mean 'num_episodes'"),
    ('model.type=Nope', "model.type='Nope' is not a registered"),
    ('test_cfg.cache_dirr=/tmp/x', "did you mean 'cache_dir'"),
])
def test_test_tool_stops_before_building_anything(option, match, tmp_path,
                                                  capsys):
    from mmppm.engine.testing import main
    with pytest.raises(SystemExit) as exit_info:
        main([TOY, '--work-dir', str(tmp_path), '--cfg-options', option])
    message = str(exit_info.value.code)
    assert message.startswith('error: ') and match in message
    assert '\n' not in message
    assert not list(tmp_path.iterdir())  # nothing was started


def test_new_nested_settings_are_allowed_but_near_misses_are_not():
    cfg = Config.fromfile(TOY)
    check_override_keys(
        cfg, {
            'model.fitter.early_stop.patience': 3,
            'model.test_cfg.prompt_init': 'names'
        })
    with pytest.raises(ConfigError, match="did you mean 'num_episodes'"):
        check_override_keys(cfg, {'test_dataloader.dataset.num_episode': 3})
