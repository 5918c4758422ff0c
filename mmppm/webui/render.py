# Copyright (c) mmppm contributors. All rights reserved.
"""Pictures of the web page: the support being annotated and the results.

Keypoint colours and numbers come from
:func:`mmppm.visualization.draw_keypoints`, so keypoint ``k`` looks the same
on the support, on every query and in the map grid.
"""
from typing import Optional, Sequence

import cv2
import numpy as np

from mmppm.visualization import crop_image, draw_keypoints, draw_maps_grid
from .support_set import SupportImage


def display_scale(image: np.ndarray, min_side: int = 480) -> float:
    """Zoom of a support picture on the page: small images are enlarged so
    that the long side is ``min_side`` (clicks are divided by it)."""
    return max(1., min_side / max(image.shape[:2]))


def draw_support(img: SupportImage,
                 skeleton: Sequence = (),
                 scale: float = 1.) -> np.ndarray:
    """RGB picture of one support, enlarged ``scale`` times: numbered
    keypoints, a grey cross for keypoints marked not visible, the object
    box (a square at its first corner while it is being drawn)."""
    image = img.image if scale == 1 else cv2.resize(
        img.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    kpts = (np.nan_to_num(img.keypoints) + 0.5) * scale - 0.5
    placed = ~np.isnan(img.keypoints[:, 0])
    if img.visible.any():
        links = [
            link for link in skeleton if all(img.visible[i] for i in link)
        ]
        out = draw_keypoints(
            image,
            kpts,
            img.visible.astype(np.float32),
            links,
            show_kpt_idx=True)
    else:
        out = np.ascontiguousarray(image[..., ::-1])
    size = max(image.shape[:2])
    mark = max(6, size // 40)
    for k in np.flatnonzero(placed & ~img.visible):
        centre = tuple(int(round(v)) for v in kpts[k])
        cv2.drawMarker(out, centre, (128, 128, 128), cv2.MARKER_TILTED_CROSS,
                       mark, 2)
        cv2.putText(out, str(k), (centre[0] + 3, centre[1] - 3),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (128, 128, 128), 1,
                    cv2.LINE_AA)
    thick = max(1, size // 200)
    if img.bbox is not None:
        x1, y1, x2, y2 = (int(round(v * scale)) for v in img.bbox)
        cv2.rectangle(out, (x1, y1), (x2, y2), (255, 255, 255), thick + 2)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 160, 255), thick)
    if img.corner is not None:
        cv2.drawMarker(out, tuple(int(round(v * scale)) for v in img.corner),
                       (0, 160, 255), cv2.MARKER_SQUARE, mark, thick)
    return out


def draw_query(image: np.ndarray,
               keypoints: np.ndarray,
               skeleton: Sequence = ()) -> np.ndarray:
    """RGB picture of one query with its predicted keypoints."""
    return draw_keypoints(
        image, keypoints, skeleton=list(skeleton), show_kpt_idx=True)


def draw_query_maps(image: np.ndarray,
                    meta: dict,
                    maps: np.ndarray,
                    names: Optional[Sequence[str]] = None) -> np.ndarray:
    """RGB grid of every keypoint's attention map over the query crop."""
    crop = crop_image(image, meta['input_center'], meta['input_scale'],
                      meta['input_size'])
    labels = [f'{k}: {n}' for k, n in enumerate(names)] if names else None
    return draw_maps_grid(crop, maps, labels)
