"""PromptFitter's ``shots_per_step``: each step fits on a subset of the
shots. Pinned to what it approximates: with as many shots per step as
there are usable shots it is the paper's fit bit for bit; with fewer, each
step sees exactly the drawn shots' pairs with their weights recomputed."""
import logging

import pytest
import torch
from mmengine.logging import MMLogger
from mmpose.registry import MODELS

from mmppm.models.fitters import PromptFitter
from mmppm.models.map_modes import FitPairs, sample_shots
from mmppm.testing.ppm_configs import estimator_cfg

pytestmark = pytest.mark.usefixtures('one_thread')
CROP = 32
VISIBLE = torch.tensor([[1., 1., 0.], [1., 0., 1.], [0., 0., 0.],
                        [0., 1., 1.]])  # 4 shots, the third without keypoints


def test_fit_pairs_of_all_shots_and_of_a_subset():
    targets = torch.arange(12.).reshape(4, 3, 1, 1)  # [S, K, 1, 1]
    pairs = FitPairs.from_visible(targets, VISIBLE, torch.device('cpu'))
    # keypoint-major (k, s) pairs of the visible keypoints
    assert pairs.kpt_ids.tolist() == [0, 0, 1, 1, 2, 2]
    assert pairs.img_ids.tolist() == [0, 1, 0, 3, 1, 3]
    assert pairs.targets.flatten().tolist() == [0., 3., 1., 10., 5., 11.]
    assert pairs.weights.tolist() == [.5, .5, .5, .5, .5, .5]
    # a step on shots [1, 3]: their pairs, images renumbered to positions
    # in [1, 3], each prompt's loss the mean over its visible shots there
    shots = torch.tensor([1, 3])
    sub = FitPairs.from_visible(targets[shots], VISIBLE[shots],
                                torch.device('cpu'))
    assert sub.kpt_ids.tolist() == [0, 1, 2, 2]
    assert sub.img_ids.tolist() == [0, 1, 0, 1]
    assert sub.targets.flatten().tolist() == [3., 10., 5., 11.]
    assert sub.weights.tolist() == [1., 1., .5, .5]
    # CPT's episodic loss weighs by the mean over prompts
    mean = FitPairs.from_visible(targets, VISIBLE, torch.device('cpu'), 'mean')
    assert mean.weights.tolist() == pytest.approx([1 / 6] * 6)


def test_sample_shots_draws_sorted_subsets_of_the_usable_images():
    usable = torch.tensor([0, 1, 3])
    g = torch.Generator().manual_seed(0)
    draws = [sample_shots(usable, 2, g).tolist() for _ in range(30)]
    assert all(len(d) == 2 and d == sorted(d) for d in draws)
    assert {tuple(d) for d in draws} == {(0, 1), (0, 3), (1, 3)}
    again = torch.Generator().manual_seed(0)
    assert draws[0] == sample_shots(usable, 2, again).tolist()


def _fit(sd_dir, map_mode, shots_per_step, record=None):
    fitter = dict(
        type='PromptFitter',
        steps=4,
        lr=0.05,
        shots_per_step=shots_per_step,
        map_mode=dict(type=map_mode))
    model = MODELS.build(estimator_cfg(sd_dir, fitter=fitter))
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, CROP, CROP, generator=g) * 2 - 1
    targets = torch.rand(4, 3, CROP, CROP, generator=g)
    mode = model.bound_map_mode()
    if record is not None:  # what each step's fit_terms receives
        fit_terms = mode.fit_terms

        def recording(state, prompts, pairs, generator):
            record.append((state, pairs))
            return fit_terms(state, prompts, pairs, generator)

        mode.fit_terms = recording
    with torch.enable_grad():
        return model.fitter.fit(mode, model.head,
                                model.backbone.encode(images), targets,
                                VISIBLE,
                                torch.Generator().manual_seed(7))


@pytest.mark.parametrize('map_mode', ['ExactMaps', 'SharedContextMaps'])
@pytest.mark.parametrize('shots_per_step', [3, 4, 10])
def test_all_usable_shots_per_step_is_the_full_fit_exactly(
        random_sd_dir, map_mode, shots_per_step):
    full = _fit(random_sd_dir, map_mode, None)
    # 3 of the 4 shots have a visible keypoint: 3 per step is all of them
    same = _fit(random_sd_dir, map_mode, shots_per_step)
    assert torch.equal(same.prompts, full.prompts)
    assert same.losses == full.losses


@pytest.mark.parametrize('map_mode',
                         ['ExactMaps', 'CachedMaps', 'SharedContextMaps'])
def test_each_step_fits_the_drawn_shots_pairs_only(random_sd_dir, map_mode):
    record = []
    fit = _fit(random_sd_dir, map_mode, 1, record)
    full = _fit(random_sd_dir, map_mode, None)
    assert fit.steps == 4 and len(record) == 4
    for state, pairs in record:
        # one image's state, that image's pairs with weight 1 each
        batch = (
            state.queries[next(iter(state.queries))].shape[0]
            if map_mode == 'CachedMaps' else state.shape[0])
        assert batch == 1 and pairs.img_ids.tolist() == [0, 0]
        assert pairs.weights.tolist() == [1., 1.]
    assert not torch.equal(fit.prompts, full.prompts)


def test_config_error_names_the_key():
    with pytest.raises(
            ValueError,
            match=r'^model.fitter.shots_per_step must be None or '
            r'an integer >= 1, got 0$'):
        PromptFitter(shots_per_step=0)


def test_speed_variants_name_their_approximations(random_sd_dir):
    assert PromptFitter().approximations() == []
    fitter = PromptFitter(
        shots_per_step=3, map_mode=dict(type='SharedContextMaps'))
    assert fitter.approximations() == [
        'map_mode SharedContextMaps', '3 shots per step'
    ]
    warm = MODELS.build(dict(type='WarmStartFitter', steps=2))
    assert warm.approximations() == [
        'warm start (100 steps, map_mode CachedMaps)'
    ]
    # the estimator says so in the log when it is built
    handler = logging.Handler(logging.INFO)
    messages = []
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        MODELS.build(
            estimator_cfg(
                random_sd_dir,
                fitter=dict(type='PromptFitter', shots_per_step=3)))
        MODELS.build(estimator_cfg(random_sd_dir))  # the paper's: silent
    finally:
        logger.removeHandler(handler)
    variant = [m for m in messages if 'speed variant' in m]
    assert variant == [
        'model.fitter is a speed variant (3 shots per step): an '
        "approximation of the paper's fit (Eq. 4); its accuracy against "
        'exact maps: docs/benchmark.md, "Speed variants paired with exact '
        'maps"'
    ]
