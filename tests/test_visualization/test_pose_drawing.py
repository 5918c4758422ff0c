# Copyright (c) mmppm contributors. All rights reserved.
import cv2
import numpy as np
import pytest

from mmppm.visualization import (crop_image, draw_keypoints, draw_maps_grid,
                                 keypoint_colors, save_rgb, side_by_side,
                                 skeleton_zero_based)


def test_keypoint_colors_distinct():
    colors = keypoint_colors(20)
    assert colors.shape == (20, 3) and colors.dtype == np.uint8
    assert len({tuple(c) for c in colors}) == 20


def test_skeleton_zero_based():
    assert skeleton_zero_based([[1, 2], [2, 3]], 3) == [[0, 1], [1, 2]]
    assert skeleton_zero_based([[0, 1], [1, 2]], 3) == [[0, 1], [1, 2]]
    assert skeleton_zero_based(None, 3) == []
    with pytest.raises(ValueError, match='outside 0..2'):
        skeleton_zero_based([[0, 3]], 3)
    with pytest.raises(ValueError, match='not a pair'):
        skeleton_zero_based([[0, 1, 2]], 3)


def test_draw_keypoints_colours_visible_points_only():
    img = np.zeros((100, 120, 3), dtype=np.uint8)
    kpts = np.array([[20., 30.], [80., 60.]])
    out = draw_keypoints(img, kpts, visible=[1, 0], skeleton=[[0, 1]])
    assert out.shape == img.shape
    red, green, _ = keypoint_colors(2)[0]
    assert tuple(out[30, 20]) == (red, green, keypoint_colors(2)[0][2])
    assert not out[60, 80].any()  # invisible: not drawn, no link either
    assert not out[45, 50].any()


def test_crop_image_matches_topdown_affine():
    from mmpose.datasets.transforms import TopdownAffine
    img = np.random.default_rng(0).integers(
        0, 255, (90, 130, 3), dtype=np.uint8)
    center, scale = np.array([[60., 40.]]), np.array([[70., 70.]])
    ref = TopdownAffine(input_size=(32, 32))(
        dict(img=img.copy(), bbox_center=center, bbox_scale=scale))
    np.testing.assert_array_equal(
        crop_image(img, center, scale, (32, 32)), ref['img'])


def test_maps_grid_layout_and_peak_marker():
    crop = np.zeros((32, 32, 3), dtype=np.uint8)
    maps = np.zeros((5, 16, 16), dtype=np.float32)
    maps[0, 4, 12] = 1.
    grid = draw_maps_grid(crop, maps, cell_size=64)
    assert grid.shape == (2 * (64 + 18), 3 * 64, 3)  # 3 columns, 2 rows
    # white cross at the peak of map 0: cell x = (12 + .5) * 64 / 16 = 50
    assert (grid[18 + 18, 50] == 255).all()


def test_side_by_side_and_save(tmp_path):
    a = np.zeros((10, 5, 3), dtype=np.uint8)
    b = np.full((20, 20, 3), 7, dtype=np.uint8)
    row = side_by_side([a, b], gap=2)
    assert row.shape == (20, 10 + 2 + 20, 3)
    path = save_rgb(row, str(tmp_path / 'sub' / 'row.png'))
    assert cv2.imread(path).shape == row.shape


def test_keypoints_outside_the_image_are_drawn_on_the_border():
    from mmppm.visualization import clamp_to_image, draw_keypoints
    clamped, outside = clamp_to_image(
        np.array([[10., -160.], [50., 20.]]), 100, 80)
    np.testing.assert_array_equal(clamped, [[10., 0.], [50., 20.]])
    np.testing.assert_array_equal(outside, [True, False])
    img = np.full((80, 100, 3), 128, np.uint8)
    drawn = draw_keypoints(img, np.array([[10., -160.]]))
    # something is drawn at the top border where the keypoint was clamped
    assert (drawn[:6, 4:17] != 128).any()
    inside_only = draw_keypoints(img, np.array([[10., 40.]]))
    assert (inside_only[:6, 4:17] == 128).all()


def test_label_panel_adds_a_band():
    from mmppm.visualization import label_panel
    out = label_panel(np.zeros((30, 40, 3), np.uint8), 'prediction')
    assert out.shape == (52, 40, 3)
    assert (out[:22] < 255).any() and (out[22:] == 0).all()
