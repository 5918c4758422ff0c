"""The reference loop (paper Eq. 4 stated plainly, :func:`naive_episode`)
against the fast path (:class:`PromptFitter` with batched
:class:`ExactMaps` passes, latents encoded once), on the tiny random SD."""
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.fitters import naive_episode
from mmppm.testing.ppm_configs import estimator_cfg

pytestmark = pytest.mark.usefixtures('one_thread')
CROP = 32


def build_model(sd_dir, steps, max_batch):
    return MODELS.build(
        estimator_cfg(
            sd_dir,
            fitter=dict(
                type='PromptFitter',
                steps=steps,
                lr=0.05,
                map_mode=dict(type='ExactMaps', max_batch=max_batch))))


def fast_episode(model, images, targets, visible, seed):
    """What ``predict_episode`` runs: one encoding, the fit, the queries."""
    g = torch.Generator().manual_seed(seed)
    num_shots = visible.shape[0]
    latents = model.backbone.encode(images)
    with torch.enable_grad():
        fit = model.fit_prompts(latents[:num_shots], targets, visible, g)
    maps = model.query_maps(latents[num_shots:], fit.prompts,
                            tuple(targets.shape[-2:]), g)
    keypoints, _ = model.head.decode(maps)
    return dict(
        losses=fit.losses, prompts=fit.prompts, maps=maps, keypoints=keypoints)


@pytest.mark.parametrize('max_batch', [64, 2])
def test_fast_exact_path_equals_the_naive_loop(random_sd_dir, max_batch):
    model = build_model(random_sd_dir, steps=3, max_batch=max_batch)
    g = torch.Generator().manual_seed(0)
    images = torch.rand(4, 3, CROP, CROP, generator=g) * 2 - 1  # 2 S + 2 Q
    targets = torch.rand(2, 3, CROP, CROP, generator=g)
    visible = torch.tensor([[1., 1., 1.], [1., 0., 1.]])  # 5 pairs
    naive = naive_episode(model, images, targets, visible, 3,
                          torch.Generator().manual_seed(7))
    fast = fast_episode(model, images, targets, visible, 7)
    assert naive['unet_calls'] == 3 * 5 + 2 * 3
    assert len(naive['losses']) == 3
    assert fast['losses'] == pytest.approx(naive['losses'], rel=1e-4)
    torch.testing.assert_close(
        fast['prompts'], naive['prompts'], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(
        fast['maps'], naive['maps'], atol=1e-5, rtol=1e-4)


def test_naive_loop_phases_are_reported(random_sd_dir):
    model = build_model(random_sd_dir, steps=1, max_batch=64)
    images = torch.zeros(2, 3, CROP, CROP)
    seen = []

    class Phase:

        def __init__(self, name):
            seen.append(name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    out = naive_episode(
        model,
        images,
        torch.zeros(1, 2, CROP, CROP),
        torch.ones(1, 2),
        1,
        torch.Generator().manual_seed(0),
        phase=Phase)
    assert seen == ['fit', 'encode', 'query']
    assert out['maps'].shape == (1, 2, CROP, CROP)
    assert out['keypoints'].shape == (1, 2, 2)
