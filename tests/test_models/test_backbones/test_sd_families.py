# Copyright (c) mmppm contributors. All rights reserved.
"""SD 1.x, 2.x (epsilon / v-prediction) and SDXL through one backbone, on
tiny random replicas of their architectures saved with save_pretrained."""
import json
import shutil

import numpy as np
import pytest
import torch
from mmpose.registry import MODELS

from mmppm.models.backbones import SDCrossAttnBackbone
from mmppm.models.utils import diffusion_target
from mmppm.utils import SDWeightsNotFoundError
from mmppm.utils.random_sd import ARCHS, arch_family, save_random_sd

REPLICAS = ('tiny', 'tiny-sd21-base', 'tiny-sd21', 'tiny-sdxl')

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def replica_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp('replicas')
    return {a: save_random_sd(str(root / a), arch=a, seed=0) for a in REPLICAS}


def test_replicas_keep_their_family_structure():
    assert [arch_family(a) for a in REPLICAS] == ['sd1', 'sd2', 'sd2', 'sdxl']
    assert ARCHS['tiny-sd21']['scheduler']['prediction_type'] == \
        'v_prediction'
    for real, tiny in (('sd21', 'tiny-sd21'), ('sdxl', 'tiny-sdxl')):
        r, t = ARCHS[real]['unet'], ARCHS[tiny]['unet']
        for key in ('use_linear_projection', 'addition_embed_type',
                    'down_block_types'):
            if key == 'down_block_types':
                # same kinds of blocks, one level fewer
                assert set(t[key]) <= set(r[key])
            else:
                assert t.get(key) == r.get(key), (real, key)


def test_published_architectures_on_the_meta_device():
    from mmppm.utils.random_sd import build_random_sd_parts
    unet = build_random_sd_parts('sdxl')['unet']
    assert unet.device.type == 'meta'
    # SDXL base 1.0: 2.567 B UNet parameters, 70 attn2 layers
    assert sum(p.numel() for p in unet.parameters()) == 2567463684
    assert sum(n.endswith('attn2.processor')
               for n in unet.attn_processors) == 70
    sd21 = build_random_sd_parts('sd21')['unet']
    assert sum(p.numel() for p in sd21.parameters()) == 865910724
    assert sd21.config.cross_attention_dim == 1024


@pytest.mark.parametrize('arch', REPLICAS)
def test_ppm_fits_and_predicts_on_every_replica(replica_dirs, arch):
    from mmppm.testing.synthetic_episodes import make_episode
    model = MODELS.build(
        dict(
            type='PPMEstimator',
            backbone=dict(
                type='SDCrossAttnBackbone',
                pretrained=replica_dirs[arch],
                input_size=(64, 64)),
            fitter=dict(
                type='PromptFitter',
                steps=3,
                lr=0.05,
                map_mode=dict(type='ExactMaps'))))
    images, samples = make_episode(shots=1, queries=2, k=3)
    results = model.predict_episode(images, samples)
    losses = results[0].metainfo['fit_losses']
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert results[0].pred_instances.keypoints.shape == (1, 3, 2)
    assert model.backbone.family == {
        'tiny': 'custom',
        'tiny-sd21-base': 'custom',
        'tiny-sd21': 'custom',
        'tiny-sdxl': 'sdxl'
    }[arch]


def test_v_prediction_target_is_hand_computed(replica_dirs):
    backbone = SDCrossAttnBackbone(
        pretrained=replica_dirs['tiny-sd21'], input_size=(64, 64), timestep=10)
    assert backbone.prediction_type == 'v_prediction'
    latents = torch.randn(
        2, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    noisy, target = backbone.add_noise(latents,
                                       torch.Generator().manual_seed(0))
    noise = torch.randn(
        latents.shape, generator=torch.Generator().manual_seed(0))
    a = backbone.scheduler.alphas_cumprod[10]
    torch.testing.assert_close(noisy,
                               a.sqrt() * latents + (1 - a).sqrt() * noise)
    torch.testing.assert_close(target,
                               a.sqrt() * noise - (1 - a).sqrt() * latents)
    # diffusers' own velocity agrees
    t = torch.full((2, ), 10)
    torch.testing.assert_close(
        target, backbone.scheduler.get_velocity(latents, noise, t))
    # the diffusion term of the head compares the UNet output with it
    eps = SDCrossAttnBackbone(
        pretrained=replica_dirs['tiny-sd21-base'], input_size=(64, 64))
    _, eps_target = eps.add_noise(latents, torch.Generator().manual_seed(0))
    torch.testing.assert_close(eps_target, noise)


def test_diffusion_target_arithmetic():
    z, e = torch.ones(1, 1, 1, 1) * 2, torch.ones(1, 1, 1, 1) * 3
    a = torch.tensor([0.64])
    assert diffusion_target('epsilon', z, e, a).item() == 3
    assert diffusion_target('sample', z, e, a).item() == 2
    assert diffusion_target('v_prediction', z, e, a).item() == \
        pytest.approx(0.8 * 3 - 0.6 * 2)
    with pytest.raises(ValueError, match='prediction_type'):
        diffusion_target('flow', z, e, a)


@pytest.mark.parametrize('layout', ['prompt', 'empty_text'])
def test_sdxl_forward_receives_its_added_conditions(replica_dirs, layout,
                                                    monkeypatch):
    backbone = SDCrossAttnBackbone(
        pretrained=replica_dirs['tiny-sdxl'],
        input_size=(64, 48),
        context_layout=layout)
    seen = {}
    forward = backbone.unet.forward

    def spy(*args, **kwargs):
        seen.update(kwargs.get('added_cond_kwargs') or {})
        return forward(*args, **kwargs)

    monkeypatch.setattr(backbone.unet, 'forward', spy)
    noisy = torch.randn(3, 4, 6, 8)
    backbone(noisy, torch.randn(3, 1, 64))
    assert seen['time_ids'].tolist() == [[48, 64, 0, 0, 48, 64]] * 3
    assert tuple(seen['text_embeds'].shape) == (3, 32)
    if layout == 'prompt':  # no text encoder loaded: zeros
        assert seen['text_embeds'].abs().sum() == 0
    else:  # the empty prompt's pooled embedding, 2 encoders -> 64 channels
        assert seen['text_embeds'].abs().sum() > 0
        assert tuple(backbone.empty_text_embedding.shape) == (1, 77, 64)


def _folder_with(tmp_path, name, index=None, subfolders=()):
    folder = tmp_path / name
    folder.mkdir()
    if index is not None:
        (folder / 'model_index.json').write_text(json.dumps(index))
    for sub in subfolders:
        (folder / sub).mkdir()
    return str(folder)


@pytest.mark.parametrize('index, subs, match', [
    (dict(_class_name='FluxPipeline'), ('transformer', ), 'FluxPipeline'),
    (None, ('transformer', 'vae'), 'transformer-based'),
    (dict(_class_name='StableDiffusionInpaintPipeline'),
     ('unet', ), 'inpainting UNet'),
])
def test_unsupported_folders_give_one_line(tmp_path, index, subs, match):
    folder = _folder_with(tmp_path, 'model', index, subs)
    with pytest.raises(SDWeightsNotFoundError, match=match) as err:
        SDCrossAttnBackbone(pretrained=folder)
    assert 'PPM serves Stable Diffusion 1.x, 2.x' in str(err.value)
    assert '\n' not in str(err.value)


def test_a_nine_channel_unet_is_named(replica_dirs, tmp_path):
    from diffusers import UNet2DConditionModel
    folder = shutil.copytree(replica_dirs['tiny'], tmp_path / 'inpaint')
    shutil.rmtree(folder / 'unet')
    UNet2DConditionModel(
        **dict(ARCHS['tiny']['unet'], in_channels=9)).save_pretrained(folder /
                                                                      'unet')
    with pytest.raises(
            ValueError, match='9 input channels for 4-channel latents'):
        SDCrossAttnBackbone(pretrained=str(folder))


@pytest.mark.parametrize('size',
                         ['big', (128, ), (100, 128), (0, 64), (64.0, 64)])
def test_bad_input_size_is_named(replica_dirs, size):
    with pytest.raises(
            ValueError,
            match=r'^model.backbone.input_size=.* is not allowed: it must '
            r'be two integers >= 8, multiples of 8'):
        SDCrossAttnBackbone(pretrained=replica_dirs['tiny'], input_size=size)
