# Copyright (c) mmppm contributors. All rights reserved.
import colorsys
import json

import numpy as np
import pytest

from mmppm.datasets.toy_world import all_words
from mmppm.datasets.toy_world.drawing import make_template
from mmppm.testing.mp100_fixtures import TOY_KWARGS
from projects.toy_sd.datasets import (CaptionedToyScenes, crop_transform,
                                      render_scene)
from projects.toy_sd.datasets.captioned_scenes import caption_of


def test_scene_is_deterministic_and_indices_differ():
    a, b = render_scene(0, 5), render_scene(0, 5)
    assert np.array_equal(a['image'], b['image'])
    assert a['caption'] == b['caption']
    assert not np.array_equal(a['image'], render_scene(0, 6)['image'])
    assert not np.array_equal(a['image'], render_scene(1, 5)['image'])


def test_caption_words_are_world_words_each_once_with_their_blobs():
    vocab = set(all_words())
    for i in range(20):
        scene = render_scene(0, i, word_dropout=0., caption_dropout=0.)
        words = scene['words']
        assert scene['caption'] == ' '.join(words)
        assert len(set(words)) == len(words) and set(words) <= vocab
        assert len(scene['blobs']) == len(words)
        for blobs in scene['blobs']:
            assert blobs.ndim == 2 and blobs.shape[1] == 3
            assert (blobs[:, 2] > 0).all()


def test_blob_centres_show_the_blob_colour():
    """Known answer: a square blob is its colour at its centre (tone and
    saturation as its word says), but where another blob's occluder or an
    overlapping blob covers it (rare)."""
    checked = right = 0
    for i in range(30):
        scene = render_scene(0, i, word_dropout=0., caption_dropout=0.)
        for word, blobs in zip(scene['words'], scene['blobs']):
            if not word.endswith('square') or blobs[0, 2] < 3:
                continue
            x, y = (int(round(v)) for v in blobs[0, :2])
            if not (0 <= x < 128 and 0 <= y < 128):
                continue
            bgr = scene['image'][y, x].astype(float)
            h, s, v = colorsys.rgb_to_hsv(*(bgr[::-1] / 255))
            right += s > 0.6 and (v > 0.8) == word.startswith('bright')
            checked += 1
    assert checked > 20 and right >= 0.9 * checked


def test_dropout_extremes():
    rng = np.random.default_rng(0)
    words = ['a', 'b', 'b', 'c']
    assert sorted(caption_of(words, rng, 0., 0.)) == ['a', 'b', 'c']
    assert caption_of(words, rng, 1., 0.) == []
    assert caption_of(words, rng, 0., 1.) == []


def test_plain_crop_is_the_ppm_crop():
    """bbox x 1.25 square window, centred: its centre maps to the crop's."""
    warp = crop_transform([10, 20, 80, 40], None, 128)
    centre = warp @ np.array([50., 40., 1.])
    np.testing.assert_allclose(centre, [64, 64], atol=1e-4)
    # the window is 1.25 x the longer side: 100 px -> 128 px
    np.testing.assert_allclose(
        np.linalg.det(warp[:, :2]), (1.28)**2, rtol=1e-5)


def test_dataset_sample_is_mmpose_shaped():
    ds = CaptionedToyScenes(seed=0, length=10)
    assert len(ds) == 10
    sample = ds[3]
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    meta = sample['data_samples'].metainfo
    assert meta['scene_index'] == 3
    assert meta['caption'] == ' '.join(meta['words'])
    assert len(meta['word_blobs']) == len(meta['words'])


@pytest.mark.parametrize('kwargs', [dict(word_dropout=2.), dict(length=0)])
def test_bad_dataset_values_are_named(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        CaptionedToyScenes(**kwargs)


def test_pretraining_templates_are_not_the_mp100_categories(toy_root):
    """The toy MP-100 categories come from seed stream [seed, category];
    the scenes from [seed, 7919, index]: no scene repeats a category."""
    names = []
    for split in ('train', 'val', 'test'):
        ann = toy_root / 'annotations' / f'mp100_split1_{split}.json'
        with open(ann) as f:
            names += [
                tuple(c['keypoints']) for c in json.load(f)['categories']
            ]
    k_lo, k_hi = TOY_KWARGS['num_keypoints']
    scene_templates = set()
    for i in range(200):
        rng = np.random.default_rng([0, 7919, i])
        k = int(rng.integers(3, 21))
        scene_templates.add(tuple(make_template(rng, k)['words']))
    assert not scene_templates & set(names)
    # the category stream itself reproduces the categories' words
    rng = np.random.default_rng([0, 0])
    k = int(rng.integers(k_lo, k_hi + 1))
    assert tuple(make_template(rng, k)['words']) == names[0]
