# Copyright (c) mmppm contributors. All rights reserved.
"""Look-alike scenes for the word-localisation check: captions in the
instance's drawn colouring, a twin word naming both twins."""
import colorsys

import numpy as np

from mmppm.datasets.toy_world import all_words
from projects.toy_sd.datasets import render_lookalike_scene, render_scene


def test_words_are_world_words_each_once_twins_with_two_blobs():
    vocab = set(all_words())
    twins = 0
    for i in range(20):
        scene = render_lookalike_scene(0, i)
        words = scene['words']
        assert scene['caption'] == ' '.join(words)
        assert len(set(words)) == len(words) and set(words) <= vocab
        assert len(scene['blobs']) == len(scene['twin']) == len(words)
        for blobs, twin in zip(scene['blobs'], scene['twin']):
            assert blobs.shape[1] == 3 and len(blobs) <= (2 if twin else 1)
            twins += twin and len(blobs) == 2
    assert twins > 20
    a, b = render_lookalike_scene(0, 3), render_lookalike_scene(0, 3)
    assert np.array_equal(a['image'], b['image'])
    # not a pretraining scene of the same index
    assert not np.array_equal(a['image'], render_scene(0, 3)['image'])


def test_square_blobs_show_the_colour_of_their_word():
    """The caption names the drawn morph: a square blob's centre has the
    tone its word says."""
    checked = right = 0
    for i in range(30):
        scene = render_lookalike_scene(0, i)
        for word, blobs in zip(scene['words'], scene['blobs']):
            if not word.endswith('square'):
                continue
            for x, y, _ in blobs:
                x, y = int(round(x)), int(round(y))
                if not (0 <= x < 128 and 0 <= y < 128):
                    continue
                r, g, b = scene['image'][y, x, ::-1] / 255
                h, s, v = colorsys.rgb_to_hsv(r, g, b)
                right += s > 0.6 and (v > 0.8) == word.startswith('bright')
                checked += 1
    assert checked > 20 and right >= 0.9 * checked
