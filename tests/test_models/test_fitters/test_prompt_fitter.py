"""PromptFitter: built from its config entry, defaults written once, errors
that name the config path."""
import inspect

import pytest
from mmpose.registry import MODELS

from mmppm.models.fitters import PromptFitter
from mmppm.models.map_modes import CachedMaps, ExactMaps


def test_defaults_are_the_signatures():
    fitter = MODELS.build(dict(type='PromptFitter'))
    params = inspect.signature(PromptFitter.__init__).parameters
    assert fitter.steps == params['steps'].default == 100
    assert fitter.lr == params['lr'].default == 2e-3
    assert fitter.prompt_init_std == 1.0 and fitter.prompt_scale is None
    assert fitter.early_stop is None
    # the map mode from its own config, its max_batch its class default
    assert type(fitter.map_mode) is ExactMaps
    assert fitter.map_mode.max_batch == 64
    assert fitter.map_mode.backbone is None  # bound per use


def test_map_mode_is_built_from_the_nested_config():
    fitter = PromptFitter(map_mode=dict(type='CachedMaps', max_batch=5))
    assert type(fitter.map_mode) is CachedMaps
    assert fitter.map_mode.max_batch == 5


@pytest.mark.parametrize('cfg,message', [
    (dict(steps=-1), r'^model.fitter.steps must be an integer >= 0, got -1$'),
    (dict(lr=0), r'^model.fitter.lr must be a number in \(0, 1000\], got 0$'),
    (dict(map_mode=dict(type='Fast')),
     r"^model.fitter.map_mode.type='Fast' is not a registered MapMode "
     r"\(valid: \['CachedMaps', 'ExactMaps', 'SharedContextMaps'\]\)$"),
    (dict(map_mode=dict(type='ExactMaps', max_bach=4)),
     r"^model.fitter.map_mode \(ExactMaps\) has no argument 'max_bach'; "
     r"did you mean 'max_batch'\? \(valid: max_batch\)$"),
    (dict(map_mode=dict(type='ExactMaps', max_batch=0)),
     r'^model.fitter.map_mode.max_batch must be an integer >= 1, got 0$'),
    (dict(map_mode='exact'),
     r"^model.fitter.map_mode must be a dict with a 'type', one of "
     r"\['CachedMaps', 'ExactMaps', 'SharedContextMaps'\]; got 'exact'$"),
])
def test_config_errors_are_one_line_naming_the_path(cfg, message):
    with pytest.raises(ValueError, match=message):
        PromptFitter(**cfg)
