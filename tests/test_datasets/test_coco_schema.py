# Copyright (c) mmppm contributors. All rights reserved.
"""Malformed annotation files: one line naming file, entry and field."""
import json

import numpy as np
import pytest

from mmppm.datasets import MP100Dataset
from mmppm.datasets.coco_schema import annotation_keypoints, check_bbox
from mmppm.testing.mp100_fixtures import make_coco
from mmppm.utils.errors import UserError


def load(tmp_path, data):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))  # NaN/Infinity written as JSON does
    return MP100Dataset(ann_file=str(path))


def test_a_valid_file_loads(tmp_path):
    assert len(load(tmp_path, make_coco())) == 7


def test_duplicate_image_ids_name_both_entries(tmp_path):
    data = make_coco()
    data['images'][3]['id'] = data['images'][0]['id']
    with pytest.raises(
            ValueError,
            match=r"ann.json: images\[0\] and "
            r"images\[3\] share the id 0: 'cat0/0.jpg' and "
            r"'cat0/3.jpg'"):
        load(tmp_path, data)


def test_duplicate_annotation_ids(tmp_path):
    data = make_coco()
    data['annotations'][5]['id'] = data['annotations'][1]['id']
    with pytest.raises(
            ValueError,
            match=r'annotations\[1\] and '
            r'annotations\[5\] share the id 1001'):
        load(tmp_path, data)


@pytest.mark.parametrize('field, value, match', [
    ('width', None, r'images\[2\] \(id 2\) has no "width"'),
    ('width', '100', r'images\[2\] \(id 2\) has "width": \'100\'; '
     'expected a number'),
    ('file_name', None, r'images\[2\] \(id 2\) has no "file_name"'),
    ('height', 0, r'has width 100 and height 0; both must be > 0'),
])
def test_image_fields(tmp_path, field, value, match):
    data = make_coco()
    if value is None:
        del data['images'][2][field]
    else:
        data['images'][2][field] = value
    with pytest.raises(ValueError, match=match):
        load(tmp_path, data)


@pytest.mark.parametrize(
    'keypoints, match',
    [
        (None, 'not a flat list of numbers'),  # "keypoints": null
        ('1, 2, 2', 'not a flat list of numbers'),
        ([1, 2, 2, 3, 'x', 2, 5, 6, 2], 'not a flat list of numbers'),
        ([1, 2, 2, 3, 4], 'has 5 keypoint values, not a multiple of 3'),
        ([1, float('nan'), 2, 3, 4, 2, 5, 6, 2], 'non-finite keypoint'),
        ([1, 2, 2, float('inf'), 4, 2, 5, 6, 2], 'non-finite keypoint'),
    ])
def test_keypoint_values(tmp_path, keypoints, match):
    data = make_coco()
    data['annotations'][1]['keypoints'] = keypoints
    with pytest.raises(
            ValueError, match=r'annotations\[1\] \(id 1001\) .*' + match):
        load(tmp_path, data)


@pytest.mark.parametrize(
    'bbox', [[5., 10., 60.], [5, 'a', 1, 1], [5, float('nan'), 1, 1], 'box'])
def test_bbox_values(tmp_path, bbox):
    data = make_coco()
    data['annotations'][2]['bbox'] = bbox
    with pytest.raises(
            ValueError,
            match=r'annotations\[2\] \(id 1002\) has '
            r'"bbox": .*expected 4 finite numbers'):
        load(tmp_path, data)


def test_keypoint_count_mismatch_blames_the_odd_annotation(tmp_path):
    """8 keypoints in the category's first annotation, 9 in the rest: the
    first is the odd one out."""
    data = make_coco(num_per_cat=(4, 3), ks=(9, 5))
    data['annotations'][0]['keypoints'] = data['annotations'][0][
        'keypoints'][:24]
    with pytest.raises(
            ValueError,
            match=r'annotation id 1000 \(category '
            r'"cat0", id 10\) has 8 keypoints but 3 of the '
            r"category's 4 annotations have 9"):
        load(tmp_path, data)


def test_non_object_entries(tmp_path):
    data = make_coco()
    data['categories'][1] = 'cat1'
    with pytest.raises(ValueError, match=r'categories\[1\] is a str'):
        load(tmp_path, data)


def test_one_keypoint_reader_for_every_door():
    """The dataset, ``read_coco_support`` and the web page's saved sets all
    read an annotation's keypoints through ``annotation_keypoints``."""
    kpts = annotation_keypoints(dict(keypoints=[1, 2, 2, 3.5, 4, 0]), 'a')
    assert kpts.dtype == np.float32
    np.testing.assert_array_equal(kpts, [[1, 2, 2], [3.5, 4, 0]])
    assert annotation_keypoints(dict(keypoints=[]), 'a').shape == (0, 3)


@pytest.mark.parametrize('keypoints, message', [
    (None, 'ann.json: annotations[1] (id 1001) has "keypoints": None that '
     'are not a flat list of numbers (x, y, v per keypoint)'),
    ([1, True, 2], 'ann.json: annotations[1] (id 1001) has "keypoints": '
     '[1, True, 2] that are not a flat list of numbers (x, y, v per '
     'keypoint)'),
    ([1, 2], 'ann.json: annotations[1] (id 1001) has 2 keypoint values, not '
     'a multiple of 3 (x, y, v per keypoint)'),
    ([1, float('inf'), 2], 'ann.json: annotations[1] (id 1001) has '
     'non-finite keypoint coordinates (NaN or infinity)'),
])
def test_keypoint_reader_errors_are_one_line(keypoints, message):
    with pytest.raises(UserError) as e:
        annotation_keypoints(
            dict(keypoints=keypoints), 'ann.json: annotations[1] (id 1001)')
    assert str(e.value) == message


@pytest.mark.parametrize(
    'box', [[1, 2], [1, 2, float('nan'), 3], [1, 2, '3', 4], 'x'])
def test_bbox_check(box):
    check_bbox([1, 2, 3.5, 4], 'a')
    with pytest.raises(UserError) as e:
        check_bbox(box, 'ann.json: annotation 5')
    assert str(e.value) == (f'ann.json: annotation 5 has "bbox": {box!r}; '
                            'expected 4 finite numbers [x, y, width, height]')


def test_keypoints_beyond_the_limit_are_refused(tmp_path, monkeypatch):
    """Issue 35 case 10: 1,000 keypoints in an 18 KB file took 4.3 GiB for
    one fit step; the limit (200, MMPPM_MAX_KEYPOINTS) is checked when the
    file is read, before any image or prompt."""
    data = make_coco()
    data['annotations'][1]['keypoints'] = [1., 2., 2.] * 1000
    with pytest.raises(
            ValueError,
            match=r'annotations\[1\] \(id 1001\) has 1000 keypoints, more '
            r'than the limit of 200 per category .*set MMPPM_MAX_KEYPOINTS'):
        load(tmp_path, data)
    ann = dict(keypoints=[1., 2., 2.] * 5)
    assert annotation_keypoints(ann, 'x').shape == (5, 3)
    monkeypatch.setenv('MMPPM_MAX_KEYPOINTS', '4')
    with pytest.raises(
            ValueError, match='has 5 keypoints, more than the '
            'limit of 4'):
        annotation_keypoints(ann, 'x')


def test_the_api_refuses_too_many_keypoints(monkeypatch):
    from mmppm.apis.inference import _keypoints_array
    monkeypatch.setenv('MMPPM_MAX_KEYPOINTS', '3')
    kpts, vis = _keypoints_array(np.ones((3, 2)), 1, None)
    assert kpts.shape == (1, 3, 2)
    with pytest.raises(
            ValueError,
            match='^support_keypoints has 4 keypoints, more than the limit '
            'of 3'):
        _keypoints_array(np.ones((4, 2)), 1, None)
