# Copyright (c) mmppm contributors. All rights reserved.
import json

import pytest
from PIL import Image

from mmppm.datasets import generate_toy_mp100
from mmppm.testing.mp100_fixtures import TOY_KWARGS


def _load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def test_toy_deterministic(toy_root, tmp_path):
    files = generate_toy_mp100(tmp_path / 'again', **TOY_KWARGS)
    for split, path in files.items():
        ref = toy_root / 'annotations' / f'mp100_split1_{split}.json'
        assert open(path, 'rb').read() == ref.read_bytes()
    img = 'images/toy_cat00/toy_cat00_3.jpg'
    assert (tmp_path / 'again' / img).read_bytes() == (toy_root /
                                                       img).read_bytes()
    other = generate_toy_mp100(tmp_path / 'seed1', **dict(TOY_KWARGS, seed=1))
    assert open(other['train'], 'rb').read() != open(files['train'],
                                                     'rb').read()


def test_toy_content(toy_root):
    names, sizes = {}, dict(train=2, val=1, test=2)
    for split in ('train', 'val', 'test'):
        data = _load(toy_root / 'annotations' / f'mp100_split1_{split}.json')
        names[split] = {c['name'] for c in data['categories']}
        assert len(names[split]) == sizes[split]
        ks = {c['id']: len(c['keypoints']) for c in data['categories']}
        assert all(5 <= k <= 12 for k in ks.values())
        images = {i['id']: i for i in data['images']}
        assert len(data['annotations']) == 8 * sizes[split]
        for ann in data['annotations']:
            k = ks[ann['category_id']]
            assert len(ann['keypoints']) == 3 * k
            assert set(ann['keypoints'][2::3]) <= {0, 2}
            assert ann['num_keypoints'] == sum(
                v > 0 for v in ann['keypoints'][2::3]) > 0
            info = images[ann['image_id']]
            x, y, w, h = ann['bbox']
            assert x >= 0 and y >= 0 and w > 0 and h > 0
            assert x + w <= info['width'] and y + h <= info['height']
            with Image.open(toy_root / 'images' / info['file_name']) as img:
                assert img.format == 'JPEG'
                assert img.size == (info['width'], info['height'])
                assert 160 <= min(img.size) and max(img.size) <= 256
    assert not names['train'] & names['val']
    assert not names['train'] & names['test']
    assert not names['val'] & names['test']


def test_toy_skip_and_force(toy_root):
    ann = toy_root / 'annotations' / 'mp100_split1_train.json'
    ann.touch()
    stamp = ann.stat().st_mtime_ns
    generate_toy_mp100(toy_root, **TOY_KWARGS)  # matching: skipped
    assert ann.stat().st_mtime_ns == stamp
    before = ann.read_bytes()
    generate_toy_mp100(toy_root, force=True, **TOY_KWARGS)
    assert ann.read_bytes() == before


def test_refuses_to_overwrite_annotations_it_did_not_write(tmp_path):
    ann = tmp_path / 'annotations'
    ann.mkdir()
    mine = ann / 'mp100_split1_train.json'
    mine.write_text('{"my": "data"}')
    with pytest.raises(FileExistsError, match='not written by the toy'):
        generate_toy_mp100(tmp_path, **TOY_KWARGS)
    assert mine.read_text() == '{"my": "data"}'
    generate_toy_mp100(tmp_path, force=True, **TOY_KWARGS)
    assert mine.read_text() != '{"my": "data"}'


def test_keypoint_names_are_the_blobs_words(toy_root):
    """Known answer: a keypoint drawn bright red as a ring is named
    'brightredring'; the names are world words, read off the image."""
    import colorsys

    import numpy as np

    from mmppm.datasets.toy_world import HUES, all_words, hue_bin
    data = _load(toy_root / 'annotations' / 'mp100_split1_train.json')
    cat = data['categories'][0]
    assert set(cat['keypoints']) <= set(all_words())
    ann = data['annotations'][0]
    info = next(i for i in data['images'] if i['id'] == ann['image_id'])
    img = np.asarray(Image.open(toy_root / 'images' / info['file_name']))
    kpts = np.asarray(ann['keypoints']).reshape(-1, 3)
    checked = 0
    for name, (x, y, v) in zip(cat['keypoints'], kpts):
        if v == 0 or not name.endswith('square'):
            continue
        r, g, b = img[int(round(y)), int(round(x))] / 255.
        hue, sat, val = colorsys.rgb_to_hsv(r, g, b)
        assert sat > 0.6
        assert name.startswith('bright') == (val > 0.8)
        tone = 'bright' if name.startswith('bright') else 'dark'
        assert abs((hue_bin(hue) - HUES.index(name[len(tone):-6]) + 6) % 12 -
                   6) <= 1  # JPEG may move a hue near a bin edge
        checked += 1
    assert checked >= 1
