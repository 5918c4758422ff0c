"""The web page's support-set model: clicks, keypoint bookkeeping, boxes,
readiness checks and the COCO file it saves (read back by
``read_coco_support``)."""
import json

import numpy as np
import pytest

from mmppm.apis import read_coco_support
from mmppm.webui import SupportSet


def _image(h=40, w=60, value=0):
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 1] = value
    img[5, 7] = (10, 20, 30)  # so a PNG round trip is checked on content
    return img


def _two_supports():
    sset = SupportSet()
    sset.add_image(_image(), 'a.png')
    sset.add_image(_image(value=9), 'b.png')
    return sset


def test_place_fills_the_first_free_keypoint_then_adds_new_ones():
    sset = _two_supports()
    assert sset.place(0, 1, 2) == 0
    assert sset.place(0, 3, 4) == 1
    assert sset.num_keypoints == 2
    # on image 2 the same keypoints are filled in order, then a third
    assert sset.place(1, 5, 6) == 0
    assert sset.place(1, 7, 8) == 1
    assert sset.place(1, 9, 10) == 2
    assert sset.images[0].visible.tolist() == [True, True, False]
    assert np.isnan(sset.images[0].keypoints[2]).all()
    assert sset.images[1].keypoints.tolist() == [[5, 6], [7, 8], [9, 10]]
    assert sset.names == ['kpt0', 'kpt1', 'kpt2']


def test_move_remove_toggle_and_skeleton_renumbering():
    sset = _two_supports()
    for xy in ((1, 1), (2, 2), (3, 3)):
        sset.place(0, *xy)
    sset.set_skeleton('0-1, 1-2')
    sset.move(0, 1, 20, 30)
    assert sset.images[0].keypoints[1].tolist() == [20, 30]
    assert sset.toggle_visible(0, 2) is False
    assert sset.toggle_visible(0, 2) is True
    sset.remove_keypoint(0)
    assert sset.names == ['kpt1', 'kpt2']
    assert sset.images[0].keypoints.tolist() == [[20, 30], [3, 3]]
    assert sset.skeleton == [[0, 1]]  # 0-1 dropped, 1-2 renumbered
    with pytest.raises(ValueError, match='not placed on support image 2'):
        sset.toggle_visible(1, 0)
    with pytest.raises(ValueError, match='no keypoint 5'):
        sset.remove_keypoint(5)


def test_clicks_outside_and_bad_text_are_named():
    sset = _two_supports()
    with pytest.raises(ValueError, match=r'outside support image 1 \(60 x 40'):
        sset.place(0, 60, 10)
    with pytest.raises(ValueError, match='no support image 3'):
        sset.place(2, 1, 1)
    sset.place(0, 1, 1)
    with pytest.raises(ValueError, match='expected links like 0-1'):
        sset.set_skeleton('0:1')
    with pytest.raises(ValueError, match='does not exist'):
        sset.set_skeleton('0-1')
    with pytest.raises(ValueError, match='2 names for 1 keypoints'):
        sset.set_names('head, tail')
    sset.set_names(' head ')
    assert sset.names == ['head']


def test_box_from_two_corners():
    sset = _two_supports()
    assert sset.box_corner(0, 30, 5) is None
    assert sset.box_corner(0, 10, 25) == [10, 5, 30, 25]
    with pytest.raises(ValueError, match='too small'):
        sset.box_corner(1, 3, 3)
        sset.box_corner(1, 4, 20)
    sset.clear_box(0)
    assert sset.images[0].bbox is None


def test_check_ready_names_what_is_missing():
    sset = SupportSet()
    with pytest.raises(ValueError, match='Add a support image'):
        sset.check_ready()
    sset.add_image(_image(), 'a.png')
    with pytest.raises(ValueError, match='Place at least one keypoint'):
        sset.check_ready()
    sset.add_image(_image(), 'b.png')
    sset.place(0, 1, 1)
    with pytest.raises(
            ValueError,
            match=r'Support image 2 \(b.png\) has no '
            'visible keypoint'):
        sset.check_ready()
    sset.place(1, 2, 2)
    sset.add_keypoint('tail')
    with pytest.raises(
            ValueError,
            match=r'Keypoint 1 \(tail\) is visible on '
            'no support image'):
        sset.check_ready()


def test_arrays_for_inference():
    sset = _two_supports()
    sset.place(0, 1, 2)
    sset.place(0, 3, 4)
    sset.place(1, 5, 6)
    sset.images[1].bbox = [1, 2, 30, 20]
    images, kpts, boxes = sset.arrays()
    assert len(images) == 2 and images[1][0, 0, 1] == 9
    np.testing.assert_array_equal(
        kpts, [[[1, 2, 1], [3, 4, 1]], [[5, 6, 1], [0, 0, 0]]])
    np.testing.assert_array_equal(boxes, [[0, 0, 60, 40], [1, 2, 30, 20]])


def test_saved_set_round_trips_and_is_a_coco_support_file(tmp_path):
    sset = _two_supports()
    sset.place(0, 1.5, 2.25)
    sset.place(0, 3, 4)
    sset.place(1, 5, 6)
    sset.toggle_visible(0, 1)
    sset.set_names('head,tail')
    sset.set_skeleton('0-1')
    sset.images[0].bbox = [1, 1, 50, 30]
    data = json.loads(json.dumps(sset.to_coco()))
    back = SupportSet.from_coco(data)
    assert back.names == ['head', 'tail'] and back.skeleton == [[0, 1]]
    for a, b in zip(sset.images, back.images):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.keypoints, b.keypoints)
        np.testing.assert_array_equal(a.visible, b.visible)
        assert a.name == b.name
    assert back.images[0].bbox == [1, 1, 50, 30]
    assert back.images[1].bbox == [0, 0, 60, 40]
    # the same file is a support file for the CLI / inference_cape
    path = tmp_path / 'support_set.json'
    path.write_text(json.dumps(data))
    ann = read_coco_support(str(path), ['a.png', 'b.png'])
    np.testing.assert_array_equal(
        ann['keypoints'],
        [[[1.5, 2.25, 2], [3, 4, 0]], [[5, 6, 2], [0, 0, 0]]])
    assert ann['keypoint_names'] == ['head', 'tail']
    assert ann['skeleton'] == [[0, 1]]


def test_loading_a_bad_set_says_why():
    with pytest.raises(ValueError, match='not a saved support set'):
        SupportSet.from_coco({'images': []})
    sset = _two_supports()
    sset.place(0, 1, 1)
    sset.place(1, 1, 1)
    data = sset.to_coco()
    no_images = dict(
        data, images=[dict(i, mmppm_png_base64=None) for i in data['images']])
    del no_images['images'][0]['mmppm_png_base64']
    with pytest.raises(ValueError, match='no embedded image'):
        SupportSet.from_coco(no_images)
    bad_png = json.loads(json.dumps(data))
    bad_png['images'][0]['mmppm_png_base64'] = 'bm90IGFuIGltYWdl'
    with pytest.raises(ValueError, match='not a readable image'):
        SupportSet.from_coco(bad_png)
    outside = json.loads(json.dumps(data))
    outside['annotations'][1]['keypoints'] = [70, 1, 2]
    with pytest.raises(
            ValueError,
            match=r'keypoint 0 of image 2 \(b.png\) at '
            r'\(70.0, 1.0\) is outside the 60 x 40 image'):
        SupportSet.from_coco(outside)


def _saved():
    sset = _two_supports()
    sset.place(0, 1, 1)
    sset.place(1, 2, 2)
    return json.loads(json.dumps(sset.to_coco()))


@pytest.mark.parametrize('edit, match', [
    (lambda d: d.update(images='x'), '"images" must be a list of objects'),
    (lambda d: d.update(categories=['c']),
     '"categories" must be a list of objects'),
    (lambda d: d['annotations'].__setitem__(0, 'ann'),
     r'annotations\[0\] is a str, not an object'),
    (lambda d: d['annotations'][0].update(keypoints=None),
     r'annotation \d+ has "keypoints": None that are not a flat list of '
     'numbers'),
    (lambda d: d['annotations'][0].update(keypoints=['1', 2, 2]),
     r'annotation \d+ has "keypoints": .* not a flat list of numbers'),
    (lambda d: d['annotations'][0].update(keypoints=[float('nan'), 1, 2]),
     r'annotation \d+ has non-finite keypoint coordinates'),
    (lambda d: d['annotations'][0].update(bbox=[1, 2]),
     r'annotation \d+: "bbox" must be 4 finite numbers'),
    (lambda d: d['annotations'][0].update(bbox=[1, 2, float('nan'), 3]),
     r'annotation \d+: "bbox" must be 4 finite numbers'),
    (lambda d: d['images'][0].update(mmppm_png_base64=7),
     'the embedded image must be a base64 string'),
])
def test_malformed_sets_name_the_file_and_field(edit, match):
    """Each used to be a bare TypeError / AttributeError or a message
    naming neither the file nor the field."""
    data = _saved()
    edit(data)
    with pytest.raises(ValueError, match=r'mine.json: .*' + match):
        SupportSet.from_coco(data, 'mine.json')


def test_an_embedded_picture_too_large_is_refused_before_decoding(monkeypatch):
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', '1000')
    with pytest.raises(
            ValueError,
            match=r'image \d+ is 60 x 40 = 0 '
            'megapixels, above the limit'):
        SupportSet.from_coco(_saved(), 'mine.json')


def test_an_image_named_by_many_annotations_is_decoded_once(monkeypatch):
    """Issue 35 case 9: a saved set naming one large picture from many
    annotations decoded it once per annotation (+1.5 to 2.3 GiB, held for
    the session), and every click deep-copied every decoded image."""
    from mmppm.webui import support_set
    sset = _two_supports()
    sset.place(0, 1, 2)
    sset.place(1, 3, 4)
    data = json.loads(json.dumps(sset.to_coco()))
    first = data['annotations'][0]
    data['annotations'] = [dict(first, id=100 + i)
                           for i in range(12)] + data['annotations'][1:]
    calls = []
    decode = support_set.decode_png
    monkeypatch.setattr(support_set, 'decode_png',
                        lambda *a: calls.append(1) or decode(*a))
    back = SupportSet.from_coco(data)
    assert len(back.images) == 13 and len(calls) == 2
    assert all(img.image is back.images[0].image for img in back.images[:12])
    # a click's copy shares the (read-only) images, copies the rest
    clicked = back.copy()
    clicked.place(0, 5, 6)
    assert clicked.images[0].image is back.images[0].image
    assert not np.array_equal(clicked.images[0].keypoints,
                              back.images[0].keypoints)
    with pytest.raises(ValueError, match='read-only'):
        back.images[0].image[0, 0] = 1


def test_a_support_set_holds_a_bounded_number_of_pixels(monkeypatch):
    monkeypatch.setenv('MMPPM_MAX_SUPPORT_PIXELS', str(2 * 40 * 60))
    sset = _two_supports()  # 2 x 2,400 pixels: at the limit
    sset.place(0, 1, 2)
    sset.place(1, 3, 4)
    data = json.loads(json.dumps(sset.to_coco()))
    with pytest.raises(
            ValueError,
            match=r'^support set: its images hold 0.0 megapixels in all, '
            r'more than the 0 a support set may hold: use fewer or smaller '
            r'support images \(or raise MMPPM_MAX_SUPPORT_PIXELS\)$'):
        sset.add_image(_image(), 'c.png')
    assert len(SupportSet.from_coco(data).images) == 2
    monkeypatch.setenv('MMPPM_MAX_SUPPORT_PIXELS', str(2 * 40 * 60 - 1))
    with pytest.raises(ValueError, match='more than the 0 a support set'):
        SupportSet.from_coco(data)
