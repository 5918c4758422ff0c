# Copyright (c) mmppm contributors. All rights reserved.
import pytest

from mmppm.datasets.toy_world import (HUES, SHAPES, TONES, all_words,
                                      blob_word, hue_bin)


@pytest.mark.parametrize('hue, index', [(0., 0), (0.04, 0), (0.05, 1),
                                        (1 / 3, 4), (0.97, 0), (0.9, 11)])
def test_hue_bin_is_the_nearest_bin_centre(hue, index):
    assert hue_bin(hue) == index


def test_blob_word_names_tone_hue_and_shape():
    assert blob_word(0., True, 2) == 'brightredring'
    assert blob_word(2 / 3, False, 3) == 'darkbluediamond'


def test_vocabulary_is_96_distinct_letter_words():
    words = all_words()
    assert len(words) == len(TONES) * len(HUES) * len(SHAPES) == 96
    assert len(set(words)) == 96
    assert all(w.isalpha() and w.islower() for w in words)
