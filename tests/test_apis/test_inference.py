# Copyright (c) mmppm contributors. All rights reserved.
"""init_cape_model / inference_cape: coordinates, pipelines, errors."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmppm.apis import (build_cape_episode, inference_cape, init_cape_model,
                        read_coco_support)
from mmppm.testing.ppm_configs import CROP, small_config

RNG = np.random.default_rng(0)
WIDE = RNG.integers(0, 255, (100, 200, 3), dtype=np.uint8)  # H=100, W=200
KPTS = np.array([[20., 30., 2], [150., 60., 1], [100., 10., 0]])  # [K, 3]


@pytest.fixture(scope='module')
def cfg(random_sd_dir, toy_data):
    return small_config(random_sd_dir, toy_data)


@pytest.fixture(scope='module')
def model(cfg, one_thread):
    return init_cape_model(cfg)


def one_line(exc_info) -> str:
    msg = str(exc_info.value)
    assert msg and '\n' not in msg
    return msg


def peak_maps(monkeypatch, model, xy_per_kpt):
    """Make the query maps peak at the given crop pixels ``[K, 2]``."""

    def fake_query_maps(query_latents, prompts, map_size, generator):
        maps = torch.zeros(query_latents.shape[0], len(prompts), *map_size)
        for k, (x, y) in enumerate(xy_per_kpt):
            maps[:, k, y, x] = 1.
        return maps

    monkeypatch.setattr(model, 'query_maps', fake_query_maps)
    monkeypatch.setattr(model.fitter, 'steps', 0)


def test_init_returns_eval_model_with_cfg(model):
    assert not model.training
    assert model.cfg.model.backbone.input_size == (CROP, CROP)


def test_keypoints_in_original_pixels(model, monkeypatch):
    # Whole 200 x 100 image: centre (100, 50), scale 200 * 1.25 = 250 (made
    # square for the square crop): crop x -> x / 64 * 250 + 100 - 125.
    peak_maps(monkeypatch, model, [(16, 48), (32, 32), (0, 0)])
    (res, ) = inference_cape(model, WIDE, KPTS, WIDE)
    np.testing.assert_allclose(
        res.pred_instances.keypoints[0],
        [[37.5, 112.5], [100., 50.], [-25., -75.]],
        atol=1e-4)
    np.testing.assert_allclose(res.pred_instances.keypoint_scores, 1.)
    assert res.pred_instances.keypoints.shape == (1, 3, 2)


def test_query_bbox_sets_the_crop(model, monkeypatch):
    # bbox (10, 20)-(50, 60): centre (30, 40), scale 40 * 1.25 = 50.
    peak_maps(monkeypatch, model, [(32, 32), (0, 0), (48, 16)])
    res = inference_cape(
        model,
        WIDE,
        KPTS, [WIDE, WIDE],
        query_bboxes=[[0, 0, 200, 100], [10, 20, 50, 60]])
    assert len(res) == 2
    np.testing.assert_allclose(
        res[1].pred_instances.keypoints[0],
        [[30., 40.], [5., 15.], [42.5, 27.5]],
        atol=1e-4)


def test_episode_matches_benchmark_pipeline(cfg):
    from mmppm.datasets import MP100Dataset
    dataset = MP100Dataset(**{
        k: v
        for k, v in cfg.test_dataloader.dataset.items() if k != 'type'
    })
    ref = dataset[0]
    info = dataset.get_data_info(0)
    sup, qry = info['support'], info['query']
    ours = build_cape_episode(
        cfg, [i['img_path'] for i in sup],
        np.concatenate([
            np.concatenate([i['keypoints'], i['keypoints_visible'][..., None]],
                           axis=-1) for i in sup
        ]), [i['img_path'] for i in qry],
        support_bboxes=np.concatenate([i['bbox'] for i in sup]),
        query_bboxes=np.concatenate([i['bbox'] for i in qry]))
    assert torch.equal(ours['inputs'], ref['inputs'])  # identical crops
    for a, b in zip(ours['data_samples'], ref['data_samples']):
        assert a.episode_role == b.episode_role
        np.testing.assert_allclose(a.input_center, b.input_center)
        np.testing.assert_allclose(a.input_scale, b.input_scale)
        if a.episode_role == 'support':
            assert torch.equal(
                torch.as_tensor(a.gt_fields.heatmaps),
                torch.as_tensor(b.gt_fields.heatmaps))
        else:
            np.testing.assert_array_equal(a.support_keypoints_visible,
                                          b.support_keypoints_visible)


def test_full_run_paths_equal_arrays_and_heatmaps(model, toy_data, tmp_path):
    img_dir = osp.join(toy_data, 'images', 'toy_cat80')
    paths = [osp.join(img_dir, f'toy_cat80_{i}.jpg') for i in range(3)]
    ann = osp.join(toy_data, 'annotations', 'mp100_split1_test.json')
    support = read_coco_support(ann, paths[:1])
    res = inference_cape(model, paths[0], ann, paths[1:], return_heatmaps=True)
    assert model.test_cfg['output_heatmaps'] is False  # restored
    num_kpts = support['keypoints'].shape[1]
    assert res[0].pred_fields.heatmaps.shape == (num_kpts, CROP, CROP)
    assert res[0].pred_instances.keypoint_scores.shape == (1, num_kpts)
    again = inference_cape(
        model, [cv2.imread(paths[0])],
        support['keypoints'], [cv2.imread(p) for p in paths[1:]],
        support_bboxes=support['bboxes'])
    for a, b in zip(res, again):  # same seed, same crops: same answer
        np.testing.assert_allclose(a.pred_instances.keypoints,
                                   b.pred_instances.keypoints)
        assert 'pred_fields' not in b


def test_read_coco_support_matches_file_names_and_skeleton(tmp_path):
    data = dict(
        images=[
            dict(id=1, file_name='a/one.jpg'),
            dict(id=2, file_name='b/two.jpg')
        ],
        annotations=[
            dict(
                id=10,
                image_id=1,
                category_id=5,
                bbox=[1, 2, 10, 20],
                keypoints=[1, 1, 2, 2, 2, 0, 3, 3, 1]),
            dict(
                id=11,
                image_id=2,
                category_id=5,
                bbox=[0, 0, 5, 5],
                keypoints=[4, 4, 2, 5, 5, 2, 6, 6, 2]),
        ],
        categories=[
            dict(
                id=5,
                name='x',
                keypoints=['p', 'q', 'r'],
                skeleton=[[1, 2], [2, 3]])
        ])
    ann = tmp_path / 'support.json'
    ann.write_text(json.dumps(data))
    out = read_coco_support(str(ann), ['/elsewhere/two.jpg', 'one.jpg'])
    np.testing.assert_array_equal(out['keypoints'][0, :, 0], [4, 5, 6])
    np.testing.assert_array_equal(out['bboxes'][1], [1, 2, 11, 22])
    assert out['skeleton'] == [[0, 1], [1, 2]]  # COCO 1-based -> 0-based
    assert out['keypoint_names'] == ['p', 'q', 'r']
    with pytest.raises(ValueError) as e:
        read_coco_support(str(ann), ['x.jpg'])
    assert '2 keypoint annotations for 1 support' in one_line(e)
    data['annotations'][1]['keypoints'] = [4, 4, 2, 5, 5, 2]
    ann.write_text(json.dumps(data))
    with pytest.raises(ValueError) as e:
        read_coco_support(str(ann))
    assert 'keypoint counts differ' in one_line(e)


def test_bad_inputs_give_one_line_errors(model, tmp_path):
    not_image = tmp_path / 'notes.jpg'
    not_image.write_text('not an image')
    cases = [
        (FileNotFoundError, 'missing.jpg', lambda: inference_cape(
            model, str(tmp_path / 'missing.jpg'), KPTS, WIDE)),
        (ValueError, 'not a readable image',
         lambda: inference_cape(model, WIDE, KPTS, str(not_image))),
        (ValueError, 'different keypoint counts [3, 2]',
         lambda: inference_cape(model, [WIDE, WIDE], [KPTS, KPTS[:2]], WIDE)),
        (ValueError, '1 sets of keypoints for 2 support images',
         lambda: inference_cape(model, [WIDE, WIDE], KPTS, WIDE)),
        (ValueError, 'got shape (3, 4)',
         lambda: inference_cape(model, WIDE, np.zeros((3, 4)), WIDE)),
        (ValueError, 'expected a BGR array',
         lambda: inference_cape(model, WIDE, KPTS, np.zeros((4, 4, 5)))),
        (ValueError, 'query_bboxes',
         lambda: inference_cape(model, WIDE, KPTS, WIDE, query_bboxes=[1, 2])),
        (ValueError, 'support_visible has 2 values', lambda: inference_cape(
            model, WIDE, KPTS, WIDE, support_visible=[1, 0])),
        (FileNotFoundError, 'Support keypoint file not found',
         lambda: inference_cape(model, WIDE, str(tmp_path / 'k.json'), WIDE)),
    ]
    for exc, text, call in cases:
        with pytest.raises(exc) as e:
            call()
        assert text in one_line(e), (text, str(e.value))


def test_init_errors(cfg, tmp_path):
    with pytest.raises(FileNotFoundError, match='Config file not found'):
        init_cape_model(str(tmp_path / 'nope.py'))
    with pytest.raises(FileNotFoundError, match='Checkpoint not found'):
        init_cape_model(cfg, str(tmp_path / 'nope.pth'))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError) as e:
        init_cape_model(cfg, str(garbage))
    assert 'Cannot read checkpoint' in one_line(e)
    wrong = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict=dict(unknown=torch.zeros(2))), wrong)
    with pytest.raises(ValueError) as e:
        init_cape_model(cfg, str(wrong))
    assert 'does not fit the model' in one_line(e)
    # a real checkpoint cut in half is damaged, not a misfit
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(open('data/toy_sd/cpt_toy.pth', 'rb').read()[:300000])
    with pytest.raises(ValueError) as e:
        init_cape_model(cfg, str(cut))
    assert one_line(e).startswith(f'Cannot read checkpoint {cut} (damaged '
                                  'or not a checkpoint)')


def test_support_keypoints_outside_the_image_are_reported():
    from mmppm.apis.inference import warn_keypoints_outside
    images = [np.zeros((40, 60, 3), np.uint8)]
    kpts = np.array([[[10., 5.], [70., 5.], [5., -1.], [59.5, 39.5]]])
    vis = np.array([[1, 1, 0, 1]], np.float32)
    assert warn_keypoints_outside(kpts, vis, images) == [(0, 1)]


def test_wrong_image_dtypes_and_sizes_are_refused(model, tmp_path,
                                                  monkeypatch):
    """A float [0, 1] image used to run on a near-black picture; a 16-bit
    one failed deep in OpenCV; any size was decoded."""
    cases = [
        (WIDE.astype(np.float32) / 255, 'got float32; values in [0, 1]? use '
         '(img * 255)'),
        (WIDE.astype(np.uint16) * 257, 'got uint16; 16-bit? use (img // 257)'),
    ]
    for img, text in cases:
        with pytest.raises(ValueError) as e:
            inference_cape(model, WIDE, KPTS, img)
        assert text in one_line(e)
    path = tmp_path / 'big.png'
    cv2.imwrite(str(path), WIDE)
    monkeypatch.setenv('MMPPM_MAX_IMAGE_PIXELS', '1000')
    h, w = WIDE.shape[:2]
    for query in (str(path), WIDE):
        with pytest.raises(ValueError) as e:
            inference_cape(model, WIDE, KPTS, query)
        assert f'is {w} x {h} = ' in one_line(e)
        assert 'above the limit of 0 megapixels' in one_line(e)


def test_supports_with_nothing_usable_are_errors(model):
    h, w = WIDE.shape[:2]
    outside = np.array([[w + 5., 3.], [-2., 4.], [3., h + 1.]])
    with pytest.raises(ValueError) as e:
        inference_cape(model, WIDE, outside, WIDE)
    assert 'support image 0: all of its 3 visible keypoints lie outside' \
        in one_line(e)
    nan = KPTS.astype(np.float64).copy()
    nan[1, 0] = np.nan
    with pytest.raises(ValueError) as e:
        inference_cape(model, WIDE, nan, WIDE)
    assert 'support 0 keypoint 1 is (nan' in one_line(e)


def test_bad_boxes_are_named(model, tmp_path):
    nan_box = [[0., 0., float('nan'), 50.]]
    with pytest.raises(ValueError) as e:
        inference_cape(model, WIDE, KPTS, WIDE, support_bboxes=nan_box)
    assert 'support_bboxes: boxes must be finite numbers' in one_line(e)
    ann = dict(
        images=[dict(id=1, file_name='s.png', width=200, height=100)],
        annotations=[
            dict(
                id=5,
                image_id=1,
                category_id=1,
                bbox=[1, 2],
                keypoints=[20, 30, 2])
        ],
        categories=[dict(id=1, name='x', keypoints=['a'])])
    path = tmp_path / 'support.json'
    path.write_text(json.dumps(ann))
    with pytest.raises(ValueError) as e:
        read_coco_support(str(path))
    assert 'annotation 5 has "bbox": [1, 2]; expected 4 finite numbers' in \
        one_line(e)


@pytest.mark.parametrize('data, message', [
    (dict(annotations={'a': 1}),
     '"annotations" is a dict, not a list (COCO format expected)'),
    (dict(annotations=[3]), 'annotations[0] is a int, not an object'),
    (dict(annotations=[dict(keypoints=[1, 1, 2])],
          images=[dict(id=1)]), 'images[0] has no "file_name"'),
    (dict(
        annotations=[dict(keypoints=[1, 1, 2])],
        images=[dict(file_name='a.jpg')]), 'images[0] has no "id"'),
    (dict(
        annotations=[dict(keypoints=[1, 1, 2])],
        images=[dict(id=1, file_name=3)
                ]), 'images[0] has "file_name": 3; expected a string'),
    (dict(annotations=[dict(keypoints=[1, 1, 2])],
          categories=['cat']), 'categories[0] is a str, not an object'),
])
def test_malformed_support_files_are_one_line(tmp_path, data, message):
    """They were KeyError / AttributeError / TypeError tracebacks in the
    demo, the API and the web page, which all read supports here."""
    ann = tmp_path / 'support.json'
    ann.write_text(json.dumps(data))
    with pytest.raises(ValueError) as e:
        read_coco_support(str(ann), ['a.jpg'])
    assert one_line(e) == f'{ann}: {message}'
