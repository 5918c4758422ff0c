# Copyright (c) mmppm contributors. All rights reserved.
"""A support set whose skeleton is malformed: one message naming the file,
the field and the fix (issue 29, case 16; was "Internal error
(ValueError ...)")."""
import json

import numpy as np
import pytest

from mmppm.utils.errors import UserError
from mmppm.visualization import skeleton_zero_based
from mmppm.webui import SupportSet

gr = pytest.importorskip(
    'gradio',
    reason='the webui extra is not installed '
    '(tools/install.sh installs requirements/webui.txt)')


def _saved_with_skeleton(tmp_path, skeleton):
    sset = SupportSet()
    sset.add_image(np.zeros((40, 60, 3), np.uint8), 'a.png')
    sset.place(0, 1, 1)
    sset.place(0, 5, 5)
    data = json.loads(json.dumps(sset.to_coco()))
    data['categories'][0]['skeleton'] = skeleton
    path = tmp_path / 'support_set.json'
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize('skeleton, message', [
    ([['a', 'b']], "Skeleton link ['a', 'b'] is not a pair of keypoint "
     'indices: give integers, e.g. [1, 2]'),
    ([['1', '2']], "Skeleton link ['1', '2'] is not a pair of keypoint "
     'indices: give integers, e.g. [1, 2]'),
    (['ab'], "Skeleton link 'ab' is not a pair"),
    ('1-2', "Skeleton '1-2' is not a list of links: give pairs of keypoint "
     'indices, e.g. [[1, 2], [2, 3]]'),
])
def test_the_page_names_a_malformed_skeleton(tmp_path, skeleton, message):
    from mmppm.webui.app import load_support_file, page_errors
    path = _saved_with_skeleton(tmp_path, skeleton)
    with pytest.raises(gr.Error) as info:
        page_errors(load_support_file)(path)
    assert str(info.value.message) == (
        f'support_set.json: category "skeleton": {message}')


def test_skeleton_zero_based_refuses_non_integers():
    with pytest.raises(UserError) as info:
        skeleton_zero_based([[1.5, 2]], 3)
    assert str(info.value) == ('Skeleton link [1.5, 2] is not a pair of '
                               'keypoint indices: give integers, e.g. [1, 2]')
    assert skeleton_zero_based([[np.int64(1), 2]], 3) == [[0, 1]]
