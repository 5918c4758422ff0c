# Copyright (c) mmppm contributors. All rights reserved.
"""No toy category is drawn for two splits, in any preset, world or seed
(docs/toy_benchmark.md, "Category hygiene")."""
import hashlib

import numpy as np
import pytest

from mmppm.datasets.toy_world.toy_mp100 import (PRESETS, SPLITS,
                                                category_stream, draw_category)


def _digest(category, image):
    content = repr((category['keypoints'], category['skeleton'],
                    category.get('keypoint_kinds')))
    return hashlib.sha256(content.encode() +
                          np.asarray(image).tobytes()).hexdigest()


def test_no_category_in_two_splits():
    """Hash every category's template and first image for every preset and
    seeds 0-2: a hash seen in two splits would be one category drawn for
    both (make toy's old test category toy_cat12 was the mp100 preset's
    training category 12)."""
    split_of = {}
    for preset, values in PRESETS.items():
        world = values.get('world', 'blobs')
        for seed in (0, 1, 2):
            for split, count in zip(SPLITS, values['num_categories']):
                for index in range(count):
                    category, instances = draw_category(
                        seed, world, split, index, values['num_keypoints'], 1,
                        (176, 256))
                    digest = _digest(category, next(instances)[0])
                    assert split_of.setdefault(
                        digest, split) == split, (preset, seed, split, index,
                                                  category['name'])
    assert len(split_of) > 600


def test_the_first_world_keeps_its_layout():
    """The benchmark's data (mp100 preset) and the shipped CPT checkpoints
    were made with streams [seed, 0-69 | 70-79 | 80-99]."""
    assert category_stream(2, 'blobs', 'train', 12) == ([2, 12], 'toy_cat12')
    assert category_stream(0, 'blobs', 'val', 3) == ([0, 73], 'toy_cat73')
    assert category_stream(0, 'blobs', 'test', 2) == ([0, 82], 'toy_cat82')
    entropy, name = category_stream(0, 'blobs', 'train', 70)
    assert len(entropy) == 5 and name == 'toy_train70'
    entropy, name = category_stream(1, 'lookalike', 'test', 0)
    assert len(entropy) == 5 and name == 'lookalike_test00'
    with pytest.raises(ValueError, match='unknown toy world'):
        category_stream(0, 'nope', 'train', 0)
