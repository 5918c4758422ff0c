# Copyright (c) mmppm contributors. All rights reserved.
"""test_cfg.prompt_init='names': prompts from the keypoint names."""
import os.path as osp

import pytest
import torch

from mmppm.datasets.toy_world import all_words
from mmppm.models.pose_estimators.episodes import support_targets
from mmppm.testing.ppm_configs import build_ppm_estimator as build_model
from mmppm.testing.synthetic_episodes import make_episode
from projects.toy_sd.models import build_text_encoder, build_tokenizer

NAMES = ['darkazurering', 'brightreddisc', 'darkgreensquare']


@pytest.fixture(scope='module')
def worded_sd_dir(tmp_path_factory):
    """The tiny random SD with a text encoder of the toy world's words."""
    from mmppm.utils.random_sd import save_random_sd
    out = save_random_sd(
        osp.join(tmp_path_factory.mktemp('worded_sd'), 'sd'),
        arch='tiny',
        seed=0)
    tokenizer = build_tokenizer(all_words(), 24)
    torch.manual_seed(0)
    build_text_encoder(len(tokenizer), 32,
                       24).save_pretrained(osp.join(out, 'text_encoder'))
    tokenizer.save_pretrained(osp.join(out, 'tokenizer'))
    return out


def named_episode(names=NAMES, **kwargs):
    images, samples = make_episode(k=3, **kwargs)
    for s in samples:
        s.set_metainfo(dict(keypoint_names=list(names)))
    return images, samples


def test_zero_steps_predict_with_the_name_prompts(worded_sd_dir, monkeypatch):
    model = build_model(
        worded_sd_dir, steps=0, prompt_init='names', fit_diagnostics=False)
    expected = model.backbone.embed_texts(NAMES)[:, None]
    assert tuple(expected.shape) == (3, 1, 32)
    seen = {}
    original = model.query_maps

    def spy(latents, prompts, *args, **kwargs):
        seen['prompts'] = prompts
        return original(latents, prompts, *args, **kwargs)

    monkeypatch.setattr(model, 'query_maps', spy)
    images, samples = named_episode()
    model.predict_episode(images, samples)
    torch.testing.assert_close(seen['prompts'], expected)


def test_the_fit_starts_at_the_names(worded_sd_dir):
    """One step at a tiny lr stays next to the name prompts; a random
    init is far from them."""
    named = build_model(
        worded_sd_dir,
        steps=1,
        lr=1e-6,
        prompt_init='names',
        fit_diagnostics=False)
    images, samples = named_episode()
    start = named.backbone.embed_texts(NAMES)[:, None]
    gen = torch.Generator().manual_seed(0)
    latents = named.backbone.encode(images[:1])
    targets, visible = support_targets(samples[:1])
    init = named.name_prompts(samples[0].metainfo, 3)
    with torch.enable_grad():
        fitted = named.fit_prompts(
            latents, targets, visible, gen, init=init).prompts
    assert (fitted - start).abs().max() < 1e-4
    rand = build_model(worded_sd_dir, steps=0)
    with torch.enable_grad():
        other = rand.fit_prompts(latents, targets, visible,
                                 torch.Generator().manual_seed(0)).prompts
    assert (other - start).abs().max() > 0.1


@pytest.mark.parametrize('names', [[], ['darkazurering', '', 'x'], ['a', 'b']])
def test_missing_names_are_named(worded_sd_dir, names):
    model = build_model(worded_sd_dir, steps=0, prompt_init='names')
    images, samples = named_episode(names)
    with pytest.raises(ValueError, match="prompt_init='names' needs one"):
        model.predict_episode(images, samples)


def test_a_folder_without_text_encoder_is_named(random_sd_dir, tmp_path):
    import shutil
    bare = shutil.copytree(random_sd_dir, tmp_path / 'bare')
    shutil.rmtree(bare / 'text_encoder', ignore_errors=True)
    model = build_model(str(bare), steps=0, prompt_init='names')
    images, samples = named_episode()
    with pytest.raises(FileNotFoundError, match='text_encoder'):
        model.predict_episode(images, samples)


def test_bad_prompt_init_value(random_sd_dir):
    with pytest.raises(ValueError, match="prompt_init must be one of"):
        build_model(random_sd_dir, prompt_init='words')


def test_keypoint_words_take_the_place_of_names(worded_sd_dir):
    """The look-alike world's twins are named ``left <word>`` / ``right
    <word>``; their ``keypoint_words`` (the caption words) are the prompts."""
    model = build_model(worded_sd_dir, steps=0, prompt_init='names')
    images, samples = named_episode(
        ['left ' + NAMES[0], 'right ' + NAMES[0], NAMES[2]])
    words = [NAMES[0], NAMES[0], NAMES[2]]
    samples[0].set_metainfo(dict(keypoint_words=words))
    torch.testing.assert_close(
        model.name_prompts(samples[0].metainfo, 3),
        model.backbone.embed_texts(words)[:, None])
