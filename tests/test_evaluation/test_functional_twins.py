# Copyright (c) mmppm contributors. All rights reserved.
"""Twins by name, the swap rate and PCK per kind of keypoint, with known
answers."""
import numpy as np
import pytest

from mmppm.evaluation.functional import kind_counts, swap_counts, twin_pairs

# two twins 60 px apart, one axis point; bbox side 100 -> thr 0.2 = 20 px
GT = np.array([[20., 50.], [80., 50.], [50., 10.]])
BBOX = [0, 0, 100, 100]
PAIRS = [(0, 1)]


@pytest.mark.parametrize('names, pairs', [
    (['left eye', 'right eye', 'nose'], [(0, 1)]),
    (['head', 'eyeL', 'eyeR', 'forelegR1', 'forelegL1'], [(1, 2), (3, 4)]),
    (['nose', 'R_Paw', 'l_paw'], [(1, 2)]),
    (['right front leg', 'left front leg', 'Left ear', 'right_ear'], [(0, 1),
                                                                      (2, 3)]),
    (['left eye', 'nose', 'right ear'], []), (['head', 'tail'], []), ([], [])
])
def test_twin_pairs_by_name(names, pairs):
    assert twin_pairs(names) == pairs


def test_every_pair_swapped_is_all_swaps_and_the_truth_none():
    vis, sup = np.ones(3), np.ones((1, 3))
    swapped = GT[[1, 0, 2]]
    assert swap_counts(swapped, GT, vis, sup, BBOX, PAIRS, 0.2) == (2, 2, 0)
    assert swap_counts(GT, GT, vis, sup, BBOX, PAIRS, 0.2) == (0, 2, 2)
    # halfway between the twins: near neither -> no swap, but counted
    middle = GT.copy()
    middle[0] = [50, 50]
    assert swap_counts(middle, GT, vis, sup, BBOX, PAIRS, 0.2) == (0, 2, 1)


def test_swaps_count_where_pck_counts_and_the_twin_is_visible():
    swapped = GT[[1, 0, 2]]
    # keypoint 0 unlabelled in a support: it does not count, 1 still does
    assert swap_counts(swapped, GT, np.ones(3), np.array([[0, 1, 1]]), BBOX,
                       PAIRS, 0.2) == (1, 1, 0)
    # keypoint 1 invisible in the query: neither counts (0's twin unseen)
    assert swap_counts(swapped, GT, np.array([1, 0, 1]), np.ones((1, 3)), BBOX,
                       PAIRS, 0.2) == (0, 0, 0)
    assert swap_counts(swapped, GT, np.ones(3), np.ones((1, 3)), BBOX, [],
                       0.2) == (0, 0, 0)


def test_kind_counts():
    out = kind_counts([True, False, True, True], [True, True, False, True],
                      ['twin', 'twin', 'unmarked', 'morph'])
    assert out == {'twin': [1, 2], 'unmarked': [0, 0], 'morph': [1, 1]}


def test_twins_of_real_mp100_names():
    """On MP-100's own names (split 1 test file): the 17-point animal
    bodies have 7 pairs, person 8, locust 15 (``antbaseL`` style), the
    numbered faces none."""
    import json

    from mmppm.testing.mp100_fixtures import require_shared_ann_file
    path = require_shared_ann_file('mp100_split1_test.json')
    with open(path, encoding='utf-8') as f:
        cats = {c['name']: c['keypoints'] for c in json.load(f)['categories']}
    counts = {name: len(twin_pairs(names)) for name, names in cats.items()}
    assert counts['dog_body'] == 7
    assert counts['klipspringer_face'] == 0
    found = {name: n for name, n in counts.items() if n}
    assert set(found.values()) <= {3, 7, 8, 14, 15}
