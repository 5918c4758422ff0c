# Copyright (c) mmppm contributors. All rights reserved.
"""The toy world's drawing code: templates, poses, blobs, backgrounds.

An object is an articulated tree of keypoints (:func:`make_template`), each
drawn as a blob of its own colour and shape (:func:`draw_blob`); an instance
(:func:`make_instance`) articulates, rotates, scales and places it on a
cluttered grey background (:func:`background`) and hides some keypoints
under occluders. The toy MP-100 set (:mod:`.toy_mp100`) and the captioned
pretraining scenes of the toy SD (projects/toy_sd/datasets) are both drawn
with it, from disjoint seed streams. Every blob has a word
(:mod:`.words`): its hue bin, tone and shape.
"""
import colorsys
from typing import Tuple

import numpy as np
from PIL import Image, ImageDraw

from .words import blob_word


def rotation(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def make_template(rng: np.random.Generator, num_kpts: int) -> dict:
    """A tree of ``num_kpts`` points spread over a unit disc.

    Returns:
        dict: ``points`` ``[K, 2]``, ``parents`` (-1 for the root),
        ``colours`` (RGB), ``shapes`` (0-3, :data:`.words.SHAPES`),
        ``limb_colour`` and each blob's ``words`` (:func:`.words.blob_word`).
    """
    pts = rng.uniform(-0.7, 0.7, (num_kpts, 2))
    d_min = 1.6 / np.sqrt(num_kpts)
    eye = np.eye(num_kpts)
    for _ in range(200):  # relax: push closer pairs apart, stay in the disc
        diff = pts[:, None] - pts[None]  # [K, K, 2]
        dist = np.linalg.norm(diff, axis=-1) + eye
        push = np.clip(d_min - dist, 0, None) * (1 - eye)
        pts += 0.5 * (push[..., None] * diff / dist[..., None]).sum(axis=1)
        norm = np.linalg.norm(pts, axis=1, keepdims=True)
        pts /= np.maximum(norm, 1.)
    pts -= pts.mean(axis=0)
    pts /= np.linalg.norm(pts, axis=1).max()
    # tree: from the centre outwards, each point hangs on its nearest
    # already placed point
    order = np.argsort(np.linalg.norm(pts, axis=1))
    pts = pts[order]
    parents = [-1] + [
        int(np.argmin(np.linalg.norm(pts[:i] - pts[i], axis=1)))
        for i in range(1, num_kpts)
    ]
    hue0 = rng.uniform()
    hues = [(hue0 + i * 0.618034) % 1. for i in range(num_kpts)]
    colours = [
        tuple(
            int(255 * c)
            for c in colorsys.hsv_to_rgb(hue, 0.95, 0.95 - 0.3 * (i % 2)))
        for i, hue in enumerate(hues)
    ]
    shapes = [int(s) for s in rng.permutation(num_kpts) % 4]
    limb_colour = tuple(int(c) for c in rng.integers(60, 200, 3))
    return dict(
        points=pts,
        parents=parents,
        colours=colours,
        shapes=shapes,
        limb_colour=limb_colour,
        words=[
            blob_word(hue, i % 2 == 0, shape)
            for i, (hue, shape) in enumerate(zip(hues, shapes))
        ])


def draw_blob(draw: ImageDraw.ImageDraw, xy: np.ndarray, r: float,
              colour: tuple, shape: int) -> None:
    """One blob of radius ``r`` at ``xy``; its shape tells it apart as much
    as its colour (:data:`.words.SHAPES`)."""
    x, y = float(xy[0]), float(xy[1])
    box = [x - r, y - r, x + r, y + r]
    inner = tuple(255 - c for c in colour)
    if shape == 0:  # disc with a contrasting dot
        draw.ellipse(box, fill=colour)
        draw.ellipse([x - r / 3, y - r / 3, x + r / 3, y + r / 3], fill=inner)
    elif shape == 1:  # square
        draw.rectangle(box, fill=colour)
    elif shape == 2:  # ring
        draw.ellipse(box, fill=inner)
        draw.ellipse(box, outline=colour, width=max(2, int(r / 2)))
    else:  # diamond with a dot
        draw.polygon([(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
                     fill=colour)
        draw.ellipse([x - r / 4, y - r / 4, x + r / 4, y + r / 4],
                     fill=(255, 255, 255))


def background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """Noisy grey with low-saturation clutter (lines, rectangles)."""
    grey = rng.uniform(70, 190)
    tint = rng.uniform(-12, 12, 3)
    img = np.clip(grey + tint + rng.normal(0, 10, (h, w, 3)), 0, 255)
    pil = Image.fromarray(img.astype(np.uint8))
    draw = ImageDraw.Draw(pil)
    for _ in range(int(rng.integers(6, 14))):  # low-saturation clutter
        g = int(rng.integers(30, 230))
        c = (g, g, int(np.clip(g + rng.integers(-15, 16), 0, 255)))
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        x1, y1 = x0 + rng.uniform(-60, 60), y0 + rng.uniform(-60, 60)
        if rng.uniform() < 0.5:
            draw.line([x0, y0, x1, y1], fill=c, width=int(rng.integers(1, 5)))
        else:
            draw.rectangle(
                [min(x0, x1),
                 min(y0, y1),
                 max(x0, x1),
                 max(y0, y1)],
                outline=c)
    return pil


def pose(rng: np.random.Generator, pts: np.ndarray,
         parents: list) -> np.ndarray:
    """Articulate: rotate (+-20 degrees) and stretch (0.8-1.2) each limb
    about its parent, propagated down the tree; centred."""
    angle = np.zeros(len(pts))
    posed = np.zeros_like(pts)
    for i, parent in enumerate(parents):
        if parent < 0:
            posed[i] = pts[i]
            continue
        angle[i] = angle[parent] + rng.uniform(-0.35, 0.35)
        offset = (pts[i] - pts[parent]) * rng.uniform(0.8, 1.2)
        posed[i] = posed[parent] + rotation(angle[i]) @ offset
    return posed - posed.mean(axis=0)


def layout(rng: np.random.Generator, pts: np.ndarray, parents: list, w: int,
           h: int) -> Tuple[np.ndarray, float, float]:
    """Pose, rotate (+-60 degrees), scale and place a template's points in
    a ``w`` x ``h`` image.

    Returns:
        tuple: ``(xy [K, 2], blob radius, margin)`` in pixels.
    """
    k = len(pts)
    # smaller blobs for many keypoints; 4 to ~13 px
    blob = max(4., 0.05 * min(w, h) * min(1., np.sqrt(10 / k)))
    radius = rng.uniform(0.26, 0.40) * min(w, h)
    for _ in range(20):  # redraw poses whose blobs would overlap
        posed = pose(rng, pts, parents) * radius
        dist = np.linalg.norm(posed[:, None] - posed[None], axis=-1)
        if (dist + 1e9 * np.eye(k)).min() > 2.2 * blob:
            break
    posed = posed @ rotation(np.deg2rad(rng.uniform(-60, 60))).T
    margin = blob + 3
    lo, hi = -posed.min(axis=0) + margin, np.array(
        [w, h]) - posed.max(axis=0) - margin
    centre = np.where(hi > lo, rng.uniform(lo, np.maximum(hi, lo + 1e-3)),
                      np.array([w, h]) / 2)
    return posed + centre, float(blob), float(margin)


def draw_limbs(draw: ImageDraw.ImageDraw, xy: np.ndarray, parents: list,
               colour: tuple) -> None:
    """A 3 px line from each point to its parent."""
    for i, parent in enumerate(parents):
        if parent >= 0:
            p, q = xy[parent], xy[i]
            draw.line([float(p[0]),
                       float(p[1]),
                       float(q[0]),
                       float(q[1])],
                      fill=colour,
                      width=3)


def draw_visibility(rng: np.random.Generator, k: int) -> np.ndarray:
    """Which of ``k`` keypoints stay visible (about 90 %, at least one)."""
    vis = rng.uniform(size=k) > 0.1
    if not vis.any():
        vis[int(rng.integers(k))] = True
    return vis


def occlude(rng: np.random.Generator, draw: ImageDraw.ImageDraw,
            xy: np.ndarray, vis: np.ndarray, blob: float, w: int, h: int,
            margin: float) -> tuple:
    """Grey squares over the invisible keypoints; the annotation.

    Returns:
        tuple: ``(keypoints [K, 3], bbox [x, y, w, h])``: invisible
        keypoints are ``(0, 0, 0)``; the bbox spans every point plus
        ``margin``, clipped to the image.
    """
    for i in np.flatnonzero(~vis):  # occluder hides the keypoint
        g = int(rng.integers(60, 200))
        r = blob + 2
        draw.rectangle(
            [xy[i][0] - r, xy[i][1] - r, xy[i][0] + r, xy[i][1] + r],
            fill=(g, g, g))
    x0, y0 = np.maximum(xy.min(axis=0) - margin, 0)
    x1, y1 = np.minimum(xy.max(axis=0) + margin, [w - 1, h - 1])
    kpts = np.zeros((len(xy), 3))
    kpts[vis, :2] = xy[vis]
    kpts[vis, 2] = 2
    return kpts, [x0, y0, x1 - x0, y1 - y0]


def make_instance(rng: np.random.Generator, tpl: dict,
                  img_size: Tuple[int, int]) -> tuple:
    """Render one instance of a template.

    Returns:
        tuple: ``(image, keypoints, bbox, blob_radius)``: the PIL image,
        ``[K, 3]`` keypoints (x, y, v; occluded ones are ``(0, 0, 0)``), the
        bbox ``[x, y, w, h]`` and the blobs' radius in pixels.
    """
    w, h = (int(v) for v in rng.integers(img_size[0], img_size[1] + 1, 2))
    xy, blob, margin = layout(rng, tpl['points'], tpl['parents'], w, h)
    img = background(rng, w, h)
    draw = ImageDraw.Draw(img)
    draw_limbs(draw, xy, tpl['parents'], tpl['limb_colour'])
    vis = draw_visibility(rng, len(xy))
    for i in range(len(xy)):
        draw_blob(draw, xy[i], blob, tpl['colours'][i], tpl['shapes'][i])
    kpts, bbox = occlude(rng, draw, xy, vis, blob, w, h, margin)
    return img, kpts, bbox, blob
