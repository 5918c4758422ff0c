# Copyright (c) mmppm contributors. All rights reserved.
"""A tiny synthetic dataset in MP-100 format, for smoke tests and demos.

Each category is an articulated tree of 5-20 keypoints. Every keypoint is
drawn as a blob with its own colour and shape (consistent over the
category's instances), so that local appearance identifies it; instances
differ by rotation (+-60 degrees), scale, position (not centred),
articulation (+-20 degrees per limb) and limb length (0.8-1.2), on a
cluttered grey background; blobs never overlap. Some
keypoints are occluded (v=0). Train, val and test categories are disjoint.
"""
import colorsys
import json
import os.path as osp
from pathlib import Path
from typing import Dict, Tuple, Union

import numpy as np
from PIL import Image, ImageDraw

TOY_VERSION = 2
SPLITS = ('train', 'val', 'test')


def _rot(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _make_template(rng: np.random.Generator, num_kpts: int) -> dict:
    """A tree of ``num_kpts`` points spread over a unit disc."""
    pts = rng.uniform(-0.7, 0.7, (num_kpts, 2))
    d_min = 1.6 / np.sqrt(num_kpts)
    for _ in range(200):  # relax: push closer pairs apart, stay in the disc
        diff = pts[:, None] - pts[None]  # [K, K, 2]
        dist = np.linalg.norm(diff, axis=-1) + np.eye(num_kpts)
        push = np.clip(d_min - dist, 0, None) * (1 - np.eye(num_kpts))
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
    colours = [
        tuple(
            int(255 * c)
            for c in colorsys.hsv_to_rgb((hue0 + i * 0.618034) %
                                         1., 0.95, 0.95 - 0.3 * (i % 2)))
        for i in range(num_kpts)
    ]
    return dict(points=pts,
                parents=parents,
                colours=colours,
                shapes=[int(s) for s in rng.permutation(num_kpts) % 4],
                limb_colour=tuple(int(c) for c in rng.integers(60, 200, 3)))


def _draw_blob(draw: ImageDraw.ImageDraw, xy: np.ndarray, r: float,
               colour: tuple, shape: int) -> None:
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


def _background(rng: np.random.Generator, w: int, h: int) -> Image.Image:
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


def _pose(rng: np.random.Generator, pts: np.ndarray,
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
        posed[i] = posed[parent] + _rot(angle[i]) @ offset
    return posed - posed.mean(axis=0)


def _make_instance(rng: np.random.Generator, tpl: dict,
                   img_size: Tuple[int, int]) -> tuple:
    """Render one instance; return (image, keypoints [K,3], bbox xywh)."""
    w, h = (int(v) for v in rng.integers(img_size[0], img_size[1] + 1, 2))
    pts, parents = tpl['points'], tpl['parents']
    k = len(pts)
    # smaller blobs for many keypoints; 4 to ~13 px
    blob = max(4., 0.05 * min(w, h) * min(1., np.sqrt(10 / k)))
    radius = rng.uniform(0.26, 0.40) * min(w, h)
    for _ in range(20):  # redraw poses whose blobs would overlap
        posed = _pose(rng, pts, parents) * radius
        dist = np.linalg.norm(posed[:, None] - posed[None], axis=-1)
        if (dist + 1e9 * np.eye(k)).min() > 2.2 * blob:
            break
    posed = posed @ _rot(np.deg2rad(rng.uniform(-60, 60))).T
    margin = blob + 3
    lo, hi = -posed.min(axis=0) + margin, np.array(
        [w, h]) - posed.max(axis=0) - margin
    centre = np.where(hi > lo, rng.uniform(lo, np.maximum(hi, lo + 1e-3)),
                      np.array([w, h]) / 2)
    xy = posed + centre

    img = _background(rng, w, h)
    draw = ImageDraw.Draw(img)
    for i in range(1, k):
        p, q = xy[parents[i]], xy[i]
        draw.line(
            [float(p[0]), float(p[1]),
             float(q[0]), float(q[1])],
            fill=tpl['limb_colour'],
            width=3)
    vis = rng.uniform(size=k) > 0.1
    if not vis.any():
        vis[int(rng.integers(k))] = True
    for i in range(k):
        _draw_blob(draw, xy[i], blob, tpl['colours'][i], tpl['shapes'][i])
    for i in np.flatnonzero(~vis):  # occluder hides the keypoint
        g = int(rng.integers(60, 200))
        r = blob + 2
        draw.rectangle(
            [xy[i][0] - r, xy[i][1] - r, xy[i][0] + r, xy[i][1] + r],
            fill=(g, g, g))
    x0, y0 = np.maximum(xy.min(axis=0) - margin, 0)
    x1, y1 = np.minimum(xy.max(axis=0) + margin, [w - 1, h - 1])
    kpts = np.zeros((k, 3))
    kpts[vis, :2] = xy[vis]
    kpts[vis, 2] = 2
    return img, kpts, [x0, y0, x1 - x0, y1 - y0]


def _r(x: float) -> float:
    return round(float(x), 2)


def generate_toy_mp100(out_dir: Union[str, Path] = 'data/toy_mp100',
                       seed: int = 0,
                       num_categories: Tuple[int, int, int] = (8, 2, 3),
                       instances_per_category: int = 20,
                       num_keypoints: Tuple[int, int] = (5, 20),
                       img_size: Tuple[int, int] = (176, 256),
                       split_name: str = 'mp100_split1',
                       force: bool = False) -> Dict[str, str]:
    """Write a toy MP-100-format dataset; skip if it is already there.

    Layout: ``out_dir/images/<category>/<category>_<n>.jpg`` and
    ``out_dir/annotations/<split_name>_{train,val,test}.json``, plus
    ``out_dir/toy_mp100_meta.json`` recording the arguments (the skip test).

    Args:
        out_dir (str | Path): Output folder. Defaults to 'data/toy_mp100'.
        seed (int): Everything is drawn from it. Defaults to 0.
        num_categories (tuple[int]): Categories in train, val and test
            (disjoint). Defaults to (8, 2, 3).
        instances_per_category (int): One instance per image. Defaults to
            20.
        num_keypoints (tuple[int]): Inclusive range of K. Defaults to
            (5, 20).
        img_size (tuple[int]): Inclusive range of image width and height.
            Defaults to (176, 256).
        split_name (str): Annotation file stem. Defaults to 'mp100_split1'.
        force (bool): Regenerate even if a matching dataset exists, and
            write over annotation files this function did not create.
            Defaults to False.

    Returns:
        dict: ``{'train' | 'val' | 'test': annotation file path}``.
    """
    out_dir = Path(out_dir)
    ann_files = {
        s: str(out_dir / 'annotations' / f'{split_name}_{s}.json')
        for s in SPLITS
    }
    meta = dict(version=TOY_VERSION,
                seed=seed,
                num_categories=list(num_categories),
                instances_per_category=instances_per_category,
                num_keypoints=list(num_keypoints),
                img_size=list(img_size),
                split_name=split_name)
    meta_file = out_dir / 'toy_mp100_meta.json'
    if not force and meta_file.is_file() and all(
            osp.isfile(f) for f in ann_files.values()):
        with open(meta_file, encoding='utf-8') as f:
            if json.load(f) == meta:
                return ann_files
    foreign = [f for f in ann_files.values() if osp.exists(f)]
    if foreign and not force and not meta_file.is_file():
        raise FileExistsError(
            f'{foreign[0]} exists and was not written by the toy generator '
            f'(no {meta_file.name} beside it); refusing to overwrite it. '
            'Choose another output folder, or pass force=True (--force).')

    (out_dir / 'annotations').mkdir(parents=True, exist_ok=True)
    cat_idx = 0
    for split, num_cats in zip(SPLITS, num_categories):
        coco = dict(
            info=dict(description=f'toy MP-100 ({split}), seed {seed}'),
            images=[],
            annotations=[],
            categories=[])
        for _ in range(num_cats):
            rng = np.random.default_rng([seed, cat_idx])
            k = int(rng.integers(num_keypoints[0], num_keypoints[1] + 1))
            tpl = _make_template(rng, k)
            name = f'toy_cat{cat_idx:02d}'
            coco['categories'].append(
                dict(supercategory='toy',
                     id=cat_idx + 1,
                     name=name,
                     keypoints=[f'kp{i}' for i in range(k)],
                     skeleton=[[p + 1, i + 1]
                               for i, p in enumerate(tpl['parents'])
                               if p >= 0]))
            (out_dir / 'images' / name).mkdir(parents=True, exist_ok=True)
            for n in range(instances_per_category):
                img, kpts, bbox = _make_instance(rng, tpl, img_size)
                file_name = f'{name}/{name}_{n}.jpg'
                img.save(out_dir / 'images' / file_name, quality=92)
                img_id = (cat_idx + 1) * 1000 + n
                coco['images'].append(
                    dict(id=img_id,
                         file_name=file_name,
                         height=img.height,
                         width=img.width))
                coco['annotations'].append(
                    dict(keypoints=[_r(v) for v in kpts.reshape(-1)],
                         image_id=img_id,
                         id=img_id + 1000000,
                         num_keypoints=int((kpts[:, 2] > 0).sum()),
                         bbox=[_r(v) for v in bbox],
                         iscrowd=0,
                         area=_r(bbox[2] * bbox[3]),
                         category_id=cat_idx + 1))
            cat_idx += 1
        with open(ann_files[split], 'w', encoding='utf-8') as f:
            json.dump(coco, f)
    with open(meta_file, 'w', encoding='utf-8') as f:
        json.dump(meta, f)
    return ann_files
