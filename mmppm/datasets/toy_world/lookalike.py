# Copyright (c) mmppm contributors. All rights reserved.
"""The look-alike toy world: keypoints whose look is not their identity.

MP-100's keypoints come in left/right twins that look alike, change colour
between instances (a black dog and a white one) and often sit on structure
with no local mark. This world draws categories with those three
properties (docs/toy_benchmark.md, "The look-alike world"):

- **twins**: a category's body is mirror-symmetric about its axis; at
  least a third of its keypoints come in mirror pairs drawn with the same
  blob (named ``left ...`` / ``right ...``). Instances rotate (+-60
  degrees) and articulate each limb on its own, but are never mirrored, so
  which twin is which follows from the structure around it;
- **colour morphs**: a category has 3 or 4 colourings; each instance draws
  one, and all its blobs (hue shifted together, tone flipped on odd
  morphs) and its limbs change with it, so a colour does not name a
  keypoint across instances. One singleton blob per category keeps its
  colour in every morph (kind ``'other'``);
- **unmarked keypoints**: some joints are drawn without a blob: the limbs
  meet there and nothing else marks the point.

Each keypoint has a *kind* (:data:`KINDS`), stored in the category's
``keypoint_kinds``: ``'unmarked'`` (no blob, twin or not), ``'twin'`` (a
marked twin), ``'morph'`` (a marked singleton whose colour changes with the
morph), ``'other'`` (the marked singleton that keeps its colour).
The drawing primitives are the first world's (:mod:`.drawing`).
"""
import colorsys
from typing import Dict, Tuple

import numpy as np
from PIL import ImageDraw

from .drawing import (background, draw_blob, draw_limbs, draw_visibility,
                      layout, occlude)
from .words import blob_word

KINDS = ('twin', 'morph', 'unmarked', 'other')
#: Colourings per category (inclusive range).
MORPHS = (3, 4)
#: Share of a category's keypoints drawn without a blob (about).
UNMARKED_SHARE = 0.2


def twin_count(rng: np.random.Generator, num_kpts: int) -> int:
    """Mirror pairs among ``num_kpts`` keypoints: at least a third of the
    keypoints are twins, at least two stay on the axis."""
    low = int(np.ceil(num_kpts / 6))
    high = max(low, (num_kpts - 2) // 2)
    return int(rng.integers(low, high + 1))


def _relax(axis: np.ndarray, left: np.ndarray, d_min: float) -> tuple:
    """Push points closer than ``d_min`` apart, keeping the mirror
    symmetry: axis points stay on x = 0, twins mirror each other and stay
    off the axis (so a pair is never one place)."""
    n_axis = len(axis)
    for _ in range(200):
        pts = np.concatenate([axis, left, left * [-1, 1]])
        k = len(pts)
        eye = np.eye(k)
        diff = pts[:, None] - pts[None]  # [K, K, 2]
        dist = np.linalg.norm(diff, axis=-1) + eye
        push = np.clip(d_min - dist, 0, None) * (1 - eye)
        step = 0.5 * (push[..., None] * diff / dist[..., None]).sum(axis=1)
        axis = axis + step[:n_axis] * [0, 1]
        left = left + step[n_axis:n_axis + len(left)]
        left[:, 0] = np.minimum(left[:, 0], -d_min / 2)
        for part in (axis, left):
            norm = np.linalg.norm(part, axis=1, keepdims=True)
            part /= np.maximum(norm, 1.)
    return axis, left


def make_lookalike_template(rng: np.random.Generator, num_kpts: int) -> dict:
    """A mirror-symmetric tree of ``num_kpts`` keypoints with morphs.

    Keypoints are ordered axis first (top to bottom), then the twins as
    ``(left, right)`` pairs.

    Returns:
        dict: ``points`` ``[K, 2]`` (unit disc, axis x = 0), ``parents``,
        ``marked`` ``[K]`` (bool: a blob is drawn), ``look`` ``[K]`` (index
        into the looks; twins share one), ``shapes`` per look, ``morphs``
        (per morph: ``colours`` per look and ``limb_colour``), ``kinds``,
        ``names``, ``words`` (each keypoint's caption word in morph 0; an
        unmarked keypoint has its nearest marked keypoint's) and ``twins``
        (``[P, 2]`` index pairs).
    """
    n_pairs = twin_count(rng, num_kpts)
    n_axis = num_kpts - 2 * n_pairs
    axis = np.stack([
        np.zeros(n_axis),
        np.linspace(-0.8, 0.8, n_axis) + rng.uniform(-0.1, 0.1, n_axis)
    ], 1)
    left = np.stack(
        [rng.uniform(-0.9, -0.2, n_pairs),
         rng.uniform(-0.8, 0.8, n_pairs)], 1)
    axis, left = _relax(axis, left, 1.6 / np.sqrt(num_kpts))
    axis = axis[np.argsort(axis[:, 1])]  # top (y < 0) to bottom
    left = left[np.argsort(-left[:, 0])]  # nearest the axis first
    pts = np.concatenate([
        axis,
        np.repeat(left, 2, axis=0) * np.tile([[1, 1], [-1, 1]], (n_pairs, 1))
    ])
    pts[:, 1] -= pts[:, 1].mean()
    pts /= np.linalg.norm(pts, axis=1).max()

    # tree: the axis is a chain from its middle point; each left twin hangs
    # on the nearest axis point or earlier left twin, its right twin on the
    # mirror of that
    root = n_axis // 2
    parents = [i + 1 if i < root else i - 1 for i in range(n_axis)]
    parents[root] = -1
    for p in range(n_pairs):
        li = n_axis + 2 * p
        cands = list(range(n_axis)) + [n_axis + 2 * q for q in range(p)]
        near = cands[int(
            np.argmin(np.linalg.norm(pts[cands] - pts[li], axis=1)))]
        parents += [near, near if near < n_axis else near + 1]

    # one look per axis point and per pair; unmarked looks draw no blob
    n_looks = n_axis + n_pairs
    look = list(range(n_axis)) + [
        n_axis + p for p in range(n_pairs) for _ in range(2)
    ]
    n_unmarked = max(1, int(round(UNMARKED_SHARE * n_looks)))
    inner = [
        i for i in range(n_looks) if any(
            parents[k] >= 0 and look[parents[k]] == i for k in range(num_kpts))
    ]  # joints with a child: the limbs meet there
    pool = inner if len(inner) > n_unmarked else list(range(n_looks))
    unmarked_looks = set(
        int(i) for i in rng.choice(pool, n_unmarked, replace=False))
    fixed = [i for i in range(n_axis) if i not in unmarked_looks]
    fixed_look = int(rng.choice(fixed)) if fixed else -1

    hue0 = rng.uniform()
    hues = [(hue0 + i * 0.618034) % 1. for i in range(n_looks)]
    shapes = [int(s) for s in rng.permutation(n_looks) % 4]
    n_morphs = int(rng.integers(MORPHS[0], MORPHS[1] + 1))
    morphs = []
    for m in range(n_morphs):
        shift = 0. if m == 0 else m / n_morphs + rng.uniform(-0.04, 0.04)
        colours = []
        for i, hue in enumerate(hues):
            if i == fixed_look:
                shift_i, bright = 0., i % 2 == 0
            else:
                shift_i, bright = shift, (i + m) % 2 == 0
            colours.append(((hue + shift_i) % 1., bright))
        morphs.append(
            dict(
                colours=[
                    tuple(
                        int(255 * c) for c in colorsys.hsv_to_rgb(
                            h, 0.95, 0.95 if bright else 0.65))
                    for h, bright in colours
                ],
                hues=colours,
                limb_colour=tuple(int(c) for c in rng.integers(60, 200, 3))))

    marked = [look[k] not in unmarked_looks for k in range(num_kpts)]
    kinds = []
    for k in range(num_kpts):
        if not marked[k]:
            kinds.append('unmarked')
        elif k >= n_axis:
            kinds.append('twin')
        else:
            kinds.append('other' if look[k] == fixed_look else 'morph')
    words0 = [
        blob_word(h, bright, shapes[i])
        for i, (h, bright) in enumerate(morphs[0]['hues'])
    ]
    names, words = [], []
    for k in range(num_kpts):
        side = '' if k < n_axis else ('left ' if
                                      (k - n_axis) % 2 == 0 else 'right ')
        names.append(
            side + (words0[look[k]] if marked[k] else f'joint {look[k] + 1}'))
        near = [j for j in range(num_kpts) if marked[j]]
        nearest = near[int(
            np.argmin(np.linalg.norm(pts[near] - pts[k], axis=1)))]
        words.append(words0[look[nearest]])
    return dict(
        points=pts,
        parents=parents,
        marked=np.array(marked),
        look=look,
        shapes=shapes,
        morphs=morphs,
        kinds=kinds,
        names=names,
        words=words,
        twins=[[n_axis + 2 * p, n_axis + 2 * p + 1] for p in range(n_pairs)])


def make_lookalike_instance(rng: np.random.Generator, tpl: dict,
                            img_size: Tuple[int, int]) -> tuple:
    """Render one instance: a drawn morph, articulated, rotated, placed.

    Returns:
        tuple: ``(image, keypoints, bbox, blob_radius, morph)`` as
        :func:`.drawing.make_instance`, plus the morph index.
    """
    w, h = (int(v) for v in rng.integers(img_size[0], img_size[1] + 1, 2))
    morph_idx = int(rng.integers(len(tpl['morphs'])))
    morph = tpl['morphs'][morph_idx]
    xy, blob, margin = layout(rng, tpl['points'], tpl['parents'], w, h)
    img = background(rng, w, h)
    draw = ImageDraw.Draw(img)
    draw_limbs(draw, xy, tpl['parents'], morph['limb_colour'])
    vis = draw_visibility(rng, len(xy))
    for i in np.flatnonzero(tpl['marked']):
        look = tpl['look'][i]
        draw_blob(draw, xy[i], blob, morph['colours'][look],
                  tpl['shapes'][look])
    kpts, bbox = occlude(rng, draw, xy, vis, blob, w, h, margin)
    return img, kpts, bbox, blob, morph_idx


def kind_shares(categories: list, annotations: list) -> dict:
    """The look-alike world's shares, as docs/toy_benchmark.md states them,
    from COCO categories and annotations of one or more splits.

    Returns:
        dict: ``kinds`` (share of all keypoints per kind), ``twins`` (share
        of keypoints in a left/right pair, unmarked ones included),
        ``min_twins`` (the smallest per-category twin share),
        ``morphs_per_category`` (min and mean number of colourings its
        instances show) and ``num_categories``.
    """
    kinds: Dict[str, int] = {}
    twins, total, min_twins = 0, 0, 1.
    for cat in categories:
        names = cat['keypoints']
        for kind in cat['keypoint_kinds']:
            kinds[kind] = kinds.get(kind, 0) + 1
        paired = sum(1 for n in names if n.startswith(('left ', 'right ')))
        twins += paired
        total += len(names)
        min_twins = min(min_twins, paired / len(names))
    shown: Dict[int, set] = {}
    for ann in annotations:
        shown.setdefault(ann['category_id'], set()).add(ann['morph'])
    counts = [len(v) for v in shown.values()]
    return dict(
        kinds={
            k: v / total
            for k, v in sorted(kinds.items())
        },
        twins=twins / total,
        min_twins=min_twins,
        morphs_per_category=(min(counts), sum(counts) / len(counts)),
        num_categories=len(categories))
