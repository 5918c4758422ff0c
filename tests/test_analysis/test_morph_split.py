# Copyright (c) mmppm contributors. All rights reserved.
"""PCK split by colouring: the flags follow MP100Dataset's own episodes."""
import json

import numpy as np
import pytest
from mmppm_analysis.morph_split import same_morph_flags, split_pck

from mmppm.datasets import MP100Dataset, generate_toy_mp100
from mmppm.utils.errors import UserError


def test_flags_match_the_datasets_episodes_and_split_the_pck(
        tmp_path, toy_root):
    root = tmp_path / 'la'
    generate_toy_mp100(
        root,
        seed=0,
        num_categories=(1, 1, 2),
        instances_per_category=8,
        num_keypoints=(8, 10),
        world='lookalike')
    ann = str(root / 'annotations' / 'mp100_split1_test.json')
    flags = same_morph_flags(ann, shots=2, num_queries=3, num_episodes=2)
    morph = {a['id']: a['morph'] for a in json.load(open(ann))['annotations']}
    dataset = MP100Dataset(
        ann_file=ann, mode='test', shots=2, num_queries=3, num_episodes=2)
    assert sorted(flags) == list(range(4))
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        support = {morph[s['id']] for s in info['support']}
        assert flags[info['episode_id']] == [
            morph[q['id']] in support for q in info['query']
        ]
    # queries in episode order; PCK@0.2 at index 1 of two thresholds
    queries = [
        dict(episode_id=e, pck=[0., float(e * 3 + n)]) for e in range(4)
        for n in range(3)
    ]
    values = np.array([q['pck'][1] for q in queries])
    same = np.array([f for e in range(4) for f in flags[e]])
    split = split_pck(queries, flags, 1)
    assert split['same_queries'] == same.sum()
    assert split['other_queries'] == (~same).sum()
    if same.any():
        assert split['same'] == pytest.approx(values[same].mean())
    if (~same).any():
        assert split['other'] == pytest.approx(values[~same].mean())
    # the first world has no colourings
    with pytest.raises(UserError, match='not the look-alike'):
        same_morph_flags(
            str(toy_root / 'annotations' / 'mp100_split1_test.json'), 1, 2, 1)
