"""WarmStartFitter: a cheap first stage, then the fitter's own map mode;
pinned to what it is made of (with no second-stage steps it is the warm
fit, bit for bit)."""
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.fitters import PromptFitter, WarmStartFitter
from mmppm.models.map_modes import CachedMaps, SharedContextMaps
from mmppm.testing.ppm_configs import estimator_cfg

pytestmark = pytest.mark.usefixtures('one_thread')
CROP = 32
WARM = dict(
    type='PromptFitter', steps=3, lr=0.05, map_mode=dict(type='CachedMaps'))


def fit(sd_dir, fitter, progress=None):
    model = MODELS.build(estimator_cfg(sd_dir, fitter=fitter))
    g = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, CROP, CROP, generator=g) * 2 - 1
    targets = torch.rand(2, 3, CROP, CROP, generator=g)
    visible = torch.tensor([[1., 1., 1.], [1., 0., 1.]])
    latents = model.backbone.encode(images)
    with torch.enable_grad():
        return model.fit_prompts(
            latents[:2],
            targets,
            visible,
            torch.Generator().manual_seed(7),
            progress=progress)


def test_built_from_its_config_with_the_warm_stage_nested():
    fitter = MODELS.build(
        dict(
            type='WarmStartFitter',
            steps=5,
            map_mode=dict(type='SharedContextMaps')))
    assert type(fitter) is WarmStartFitter and isinstance(fitter, PromptFitter)
    assert type(fitter.map_mode) is SharedContextMaps and fitter.steps == 5
    # the default first stage: 100 steps on cached maps
    assert type(fitter.warm_start.map_mode) is CachedMaps
    assert fitter.warm_start.steps == 100


@pytest.mark.parametrize('cfg,message', [
    (dict(warm_start=dict(type='PromptFitter', stepz=3)),
     r"^model.fitter.warm_start \(PromptFitter\) has no argument 'stepz'"),
    (dict(warm_start=dict(type='ExactMaps')),
     r"^model.fitter.warm_start.type='ExactMaps' is not a registered "
     r'PromptFitter'),
    (dict(stepz=3),
     r"^model.fitter \(WarmStartFitter\) has no argument 'stepz'"),
])
def test_config_errors_name_the_nested_path(random_sd_dir, cfg, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(
            estimator_cfg(
                random_sd_dir, fitter=dict(type='WarmStartFitter', **cfg)))


def test_no_second_stage_steps_is_the_warm_fit_exactly(random_sd_dir):
    warm = fit(random_sd_dir, WARM)
    both = fit(
        random_sd_dir,
        dict(
            type='WarmStartFitter',
            warm_start=WARM,
            steps=0,
            map_mode=dict(type='ExactMaps')))
    assert torch.equal(both.prompts, warm.prompts)
    assert both.losses == warm.losses and both.steps == 3


def test_second_stage_continues_from_the_warm_prompts(random_sd_dir):
    warm = fit(random_sd_dir, WARM)
    calls = []
    both = fit(
        random_sd_dir,
        dict(
            type='WarmStartFitter',
            warm_start=WARM,
            steps=2,
            lr=0.05,
            map_mode=dict(type='ExactMaps')),
        progress=lambda done, total: calls.append((done, total)))
    # the first three steps are the warm fit's, then two exact steps
    assert both.losses[:3] == warm.losses and both.steps == 5
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    assert not torch.equal(both.prompts, warm.prompts)
