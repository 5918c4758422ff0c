# Copyright (c) mmppm contributors. All rights reserved.
"""Pictures of CAPE results: keypoints (with mmpose's
``PoseLocalVisualizer``), per-keypoint attention maps, side-by-side panels.

Categories differ in keypoint count, so colours and skeleton are set per
call rather than from one dataset's metainfo. Images go in BGR (as OpenCV
and mmpose's ``LoadImage`` give them) and come out RGB (as the visualizer
returns them); :func:`save_rgb` writes them.
"""
import colorsys
import math
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import get_warp_matrix

from mmppm.compat.mmpose_drawing import patch_opencv_draw_circles
from mmppm.utils.errors import UserError
from mmppm.utils.numerics import is_int

VISUALIZER_NAME = 'mmppm_cape_visualizer'


def keypoint_colors(num_keypoints: int) -> np.ndarray:
    """``[K, 3]`` distinct RGB colours (golden-ratio hues)."""
    return np.array([[
        int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1., 0.9, 1.)
    ] for i in range(num_keypoints)],
                    dtype=np.uint8).reshape(-1, 3)


def skeleton_zero_based(skeleton: Optional[Sequence],
                        num_keypoints: int) -> list:
    """Skeleton links as 0-based index pairs.

    COCO (and MP-100) skeletons are 1-based; a skeleton with an index 0 is
    taken as 0-based already.

    Raises:
        UserError: The skeleton is not a list of pairs of integers, or a
            link names a keypoint ``>= K``.
    """
    if skeleton is not None and not isinstance(skeleton, (list, tuple)):
        raise UserError(f'Skeleton {str(skeleton)[:40]!r} is not a list of '
                        'links: give pairs of keypoint indices, e.g. '
                        '[[1, 2], [2, 3]]')
    links = []
    for link in skeleton or []:
        if not isinstance(link, (list, tuple)) or len(link) != 2:
            raise UserError(f'Skeleton link {link!r} is not a pair')
        if not all(is_int(i) for i in link):
            raise UserError(f'Skeleton link {list(link)!r} is not a pair of '
                            'keypoint indices: give integers, e.g. [1, 2]')
        links.append([int(link[0]), int(link[1])])
    if links and min(min(link) for link in links) >= 1:
        links = [[a - 1, b - 1] for a, b in links]
    bad = [
        link for link in links if max(link) >= num_keypoints or min(link) < 0
    ]
    if bad:
        raise UserError(f'Skeleton link {bad[0]} (0-based) refers to a '
                        f'keypoint outside 0..{num_keypoints - 1}')
    return links


def get_visualizer(visualizer=None):
    """The given ``PoseLocalVisualizer`` or this module's own instance."""
    if visualizer is not None:
        return visualizer
    from mmpose.visualization import PoseLocalVisualizer
    return PoseLocalVisualizer.get_instance(VISUALIZER_NAME)


def clamp_to_image(keypoints: np.ndarray, width: int, height: int) -> tuple:
    """Keypoints clamped into the image, and which were outside.

    Args:
        keypoints (np.ndarray): ``[K, 2]``.
        width (int): Image width.
        height (int): Image height.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``[K, 2]`` inside ``[0, W-1] x [0,
        H-1]``, and the boolean ``[K]`` of those that were not.
    """
    kpts = np.asarray(keypoints, dtype=np.float32).reshape(-1, 2)
    limit = np.array([width - 1, height - 1], dtype=np.float32)
    clamped = np.clip(kpts, 0, limit)
    return clamped, (clamped != kpts).any(axis=1)


def label_panel(image: np.ndarray, text: str) -> np.ndarray:
    """Write ``text`` on a white band above an RGB image."""
    band = np.full((22, image.shape[1], 3), 255, dtype=np.uint8)
    cv2.putText(band, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def draw_keypoints(image: np.ndarray,
                   keypoints: np.ndarray,
                   visible: Optional[np.ndarray] = None,
                   skeleton: Optional[Sequence] = None,
                   show_kpt_idx: bool = False,
                   visualizer=None) -> np.ndarray:
    """Draw one instance's keypoints (and skeleton) with
    ``PoseLocalVisualizer``.

    Each keypoint gets a dark outline so that it stays visible on busy
    images; a keypoint outside the image is drawn clamped to the border
    with a triangle marker (so a prediction is never silently missing).

    Args:
        image (np.ndarray): BGR ``[H, W, 3]``.
        keypoints (np.ndarray): ``[K, 2]`` in image pixels.
        visible (np.ndarray, optional): ``[K]``; keypoints with 0 are not
            drawn. Defaults to all visible.
        skeleton (Sequence, optional): 0-based links ``[[i, j], ...]``.
        show_kpt_idx (bool): Write each keypoint's index. Defaults to False.
        visualizer (PoseLocalVisualizer, optional): Defaults to a
            module-level instance.

    Returns:
        np.ndarray: The drawn image, RGB.
    """
    patch_opencv_draw_circles()  # mmpose 1.3.2 under numpy >= 2.5
    vis = get_visualizer(visualizer)
    kpts, outside = clamp_to_image(keypoints, image.shape[1], image.shape[0])
    num_kpts = len(kpts)
    visible = np.ones(num_kpts, dtype=np.float32) if visible is None else \
        np.asarray(visible, dtype=np.float32).reshape(-1)
    colors = keypoint_colors(num_kpts)
    links = [list(link) for link in skeleton or []]
    vis.kpt_color = colors
    vis.skeleton = links or None
    vis.link_color = [tuple(int(c) for c in colors[a]) for a, _ in links]
    size = max(image.shape[:2])
    vis.radius = max(3, int(round(size / 70)))
    vis.line_width = max(1, int(round(size / 150)))
    inst = InstanceData()
    inst.keypoints = kpts[None]
    inst.keypoints_visible = visible[None]
    sample = PoseDataSample(pred_instances=inst)
    rgb = np.ascontiguousarray(image[..., ::-1])
    out = np.ascontiguousarray(
        vis.add_datasample(
            'cape',
            rgb,
            sample,
            draw_gt=False,
            draw_pred=True,
            show_kpt_idx=show_kpt_idx,
            kpt_thr=0.5))
    for k in np.flatnonzero(visible > 0.5):
        centre = tuple(int(round(v)) for v in kpts[k])
        cv2.circle(out, centre, vis.radius + 1, (20, 20, 20), 1, cv2.LINE_AA)
        if outside[k]:
            cv2.drawMarker(out, centre, (0, 0, 0), cv2.MARKER_TRIANGLE_UP,
                           4 * vis.radius + 2, 3)
            cv2.drawMarker(out, centre, tuple(int(c) for c in colors[k]),
                           cv2.MARKER_TRIANGLE_UP, 4 * vis.radius, 1)
    return out


def crop_image(image: np.ndarray, center: Sequence[float],
               scale: Sequence[float],
               input_size: Sequence[int]) -> np.ndarray:
    """The crop mmpose's ``TopdownAffine`` (no rotation, no UDP) makes.

    Args:
        image (np.ndarray): ``[H, W, 3]``.
        center, scale: ``input_center`` / ``input_scale`` metainfo.
        input_size (Sequence[int]): Crop ``(w, h)``.
    """
    w, h = int(input_size[0]), int(input_size[1])
    warp = get_warp_matrix(
        np.asarray(center, dtype=np.float32).reshape(-1),
        np.asarray(scale, dtype=np.float32).reshape(-1),
        0.,
        output_size=(w, h))
    return cv2.warpAffine(image, warp, (w, h), flags=cv2.INTER_LINEAR)


def draw_maps_grid(crop: np.ndarray,
                   maps: np.ndarray,
                   keypoint_names: Optional[Sequence[str]] = None,
                   cell_size: int = 160,
                   ncols: Optional[int] = None,
                   alpha: float = 0.5) -> np.ndarray:
    """A grid of per-keypoint maps over the query crop.

    Each cell is the crop with one keypoint's map (min-max normalised, jet
    colour map) blended over it, its argmax marked with a white cross and
    its index (or name) and maximum (two significant digits: a fused
    map is a distribution over the pixels, its maximum about 1e-3) written
    above.

    Args:
        crop (np.ndarray): BGR crop ``[H, W, 3]``.
        maps (np.ndarray): ``[K, h, w]`` maps (resized to the crop if
            needed).
        keypoint_names (Sequence[str], optional): Labels. Defaults to the
            indices.
        cell_size (int): Width of one cell in pixels. Defaults to 160.
        ncols (int, optional): Defaults to ``ceil(sqrt(K))``.
        alpha (float): Weight of the map in the blend. Defaults to 0.5.

    Returns:
        np.ndarray: The grid, RGB uint8.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f'maps must be [K, H, W], got {maps.shape}')
    num_kpts = maps.shape[0]
    ncols = ncols or int(math.ceil(math.sqrt(num_kpts)))
    nrows = int(math.ceil(num_kpts / ncols))
    crop_h, crop_w = crop.shape[:2]
    cell_h = int(round(cell_size * crop_h / crop_w))
    label_h = 18
    grid = np.full((nrows * (cell_h + label_h), ncols * cell_size, 3),
                   255,
                   dtype=np.uint8)
    base = cv2.resize(crop, (cell_size, cell_h))
    for k in range(num_kpts):
        m = cv2.resize(
            maps[k], (cell_size, cell_h), interpolation=cv2.INTER_LINEAR)
        lo, hi = float(m.min()), float(m.max())
        norm = (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)
        heat = cv2.applyColorMap((255 * norm).astype(np.uint8),
                                 cv2.COLORMAP_JET)
        cell = cv2.addWeighted(base, 1 - alpha, heat, alpha, 0)
        y, x = np.unravel_index(int(np.argmax(maps[k])), maps[k].shape)
        cx = int(round((x + 0.5) * cell_size / maps.shape[2]))
        cy = int(round((y + 0.5) * cell_h / maps.shape[1]))
        cv2.drawMarker(cell, (cx, cy), (255, 255, 255), cv2.MARKER_CROSS,
                       max(8, cell_size // 10), 2)
        r, c = divmod(k, ncols)
        top, left = r * (cell_h + label_h), c * cell_size
        grid[top + label_h:top + label_h + cell_h,
             left:left + cell_size] = cell
        name = keypoint_names[k] if keypoint_names else str(k)
        cv2.putText(grid, f'{name} max {float(maps[k].max()):.2g}',
                    (left + 3, top + label_h - 5), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.ascontiguousarray(grid[..., ::-1])


def side_by_side(images: Sequence[np.ndarray], gap: int = 4) -> np.ndarray:
    """Images (same channel order) in a row, each scaled to the tallest
    height, with white gaps."""
    height = max(img.shape[0] for img in images)
    row = []
    for i, img in enumerate(images):
        if img.shape[0] != height:
            w = int(round(img.shape[1] * height / img.shape[0]))
            img = cv2.resize(img, (w, height))
        if i:
            row.append(np.full((height, gap, 3), 255, dtype=np.uint8))
        row.append(img)
    return np.concatenate(row, axis=1)


def save_rgb(image: np.ndarray, path: str) -> str:
    """Write an RGB image (creating the folder); return ``path``."""
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if not cv2.imwrite(path, np.ascontiguousarray(image[..., ::-1])):
        raise OSError(f'Could not write {path}')
    return path
