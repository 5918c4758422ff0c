# Copyright (c) mmppm contributors. All rights reserved.
"""The look-alike toy world: twins, colour morphs and unmarked keypoints in
the shares docs/toy_benchmark.md states, checked on generated data."""
import numpy as np
import pytest

from mmppm.datasets.toy_world.lookalike import (KINDS, MORPHS,
                                                make_lookalike_instance,
                                                make_lookalike_template)
from mmppm.evaluation.functional import twin_pairs

SIZE = (176, 256)


@pytest.fixture(scope='module')
def templates():
    return [
        make_lookalike_template(np.random.default_rng([7, i]), k)
        for i, k in enumerate([8, 9, 11, 12, 14, 16, 18, 20] * 3)
    ]


def test_twins_mirror_each_other_and_are_named_by_side(templates):
    for tpl in templates:
        k = len(tpl['names'])
        pairs = twin_pairs(tpl['names'])
        assert pairs == [tuple(p) for p in tpl['twins']]
        assert 2 * len(pairs) >= k / 3  # at least a third are twins
        for i, j in pairs:
            assert tpl['names'][i].startswith('left ')
            assert tpl['names'][j] == 'right ' + tpl['names'][i][5:]
            # mirror images across the axis x = 0, off the axis
            np.testing.assert_allclose(tpl['points'][j],
                                       tpl['points'][i] * [-1, 1])
            assert tpl['points'][i][0] < 0
            assert tpl['look'][i] == tpl['look'][j]  # the same blob
        axis = [k for k in range(k) if not any(k in p for p in pairs)]
        np.testing.assert_allclose(tpl['points'][axis, 0], 0, atol=1e-12)


def test_kinds_and_their_shares(templates):
    kinds = [kind for tpl in templates for kind in tpl['kinds']]
    assert set(kinds) <= set(KINDS)
    share = {kind: kinds.count(kind) / len(kinds) for kind in KINDS}
    assert 0.1 <= share['unmarked'] <= 0.3
    assert share['twin'] >= 0.25
    for tpl in templates:
        assert tpl['kinds'].count('unmarked') >= 1
        assert tpl['kinds'].count('other') <= 1
        assert [kind == 'unmarked'
                for kind in tpl['kinds']] == list(~tpl['marked'])
        assert MORPHS[0] <= len(tpl['morphs']) <= MORPHS[1]


def test_morphs_recolour_every_blob_but_the_fixed_one(templates):
    for tpl in templates:
        first, second = tpl['morphs'][:2]
        for k, kind in enumerate(tpl['kinds']):
            look = tpl['look'][k]
            same = first['colours'][look] == second['colours'][look]
            assert same == (kind == 'other'), (kind, first, second)
        assert len({m['limb_colour'] for m in tpl['morphs']}) > 1


def _has_colour(img, xy, r, colour):
    x, y = int(round(xy[0])), int(round(xy[1]))
    patch = img[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]
    return bool((patch == colour).all(axis=-1).any())


def test_instances_draw_blobs_at_marked_keypoints_only(templates):
    """On the rendered (not yet JPEG) image: each visible marked keypoint
    shows its morph's colour within its blob; no blob colour of the morph
    lies within half a blob radius of a visible unmarked keypoint; every
    instance draws one of the morphs, and several morphs occur."""
    rng = np.random.default_rng(3)
    morphs = set()
    for tpl in templates[:8]:
        for _ in range(4):
            img, kpts, _, blob, m = make_lookalike_instance(rng, tpl, SIZE)
            morphs.add(m)
            img = np.asarray(img)
            colours = tpl['morphs'][m]['colours']
            xy = kpts[:, :2]
            dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
            if (dist + 1e9 * np.eye(len(xy))).min() <= 2.2 * blob:
                continue  # a crowded pose: blobs may touch
            for k in np.flatnonzero(kpts[:, 2] > 0):
                look = tpl['look'][k]
                if tpl['marked'][k]:
                    assert _has_colour(img, xy[k], int(blob), colours[look])
                else:
                    r = int(0.5 * blob)
                    assert not any(
                        _has_colour(img, xy[k], r, c) for c in colours)
    assert len(morphs) >= 3


def test_generated_files_state_their_shares(tmp_path, load_tool, capsys):
    """The generator tool writes the world and prints its shares, which
    :func:`kind_shares` computes from the files (the docs' figures)."""
    import json

    from mmppm.datasets.toy_world.lookalike import kind_shares
    tool = load_tool('dataset_converters/generate_toy_mp100.py')
    out = tmp_path / 'la'
    tool.main([
        '--world', 'lookalike', '--num-categories', '2', '1', '2',
        '--instances-per-category', '8', '--num-keypoints', '8', '14',
        '--out-dir',
        str(out)
    ])
    printed = capsys.readouterr().out.strip().splitlines()[-1]
    cats, anns = [], []
    for split in ('train', 'val', 'test'):
        data = json.loads(
            (out / 'annotations' / f'mp100_split1_{split}.json').read_text())
        cats += data['categories']
        anns += data['annotations']
        for cat in data['categories']:
            assert len(cat['keypoint_kinds']) == len(cat['keypoints'])
            assert len(cat['keypoint_words']) == len(cat['keypoints'])
            assert cat['name'].startswith(f'lookalike_{split}')
    shares = kind_shares(cats, anns)
    assert shares['num_categories'] == 5
    assert shares['min_twins'] >= 1 / 3
    assert shares['morphs_per_category'][0] >= 2  # 8 draws of 3-4 morphs
    assert sum(shares['kinds'].values()) == pytest.approx(1)
    assert printed.startswith('5 categories; keypoints by kind: ')
    assert f"in a left/right pair {100 * shares['twins']:.1f} %" in printed
