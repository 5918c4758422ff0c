# Copyright (c) mmppm contributors. All rights reserved.
"""The support set a person annotates in the web page (docs/webui.md).

Keypoint ``k`` means the same part on every support image; a keypoint not
placed on an image, or marked not visible there, gives no loss for that
image (paper Eq. 4 sums over visible pairs only). The set is saved as a
COCO-style keypoint file with the images embedded, so
:func:`mmppm.apis.read_coco_support` (and ``demo/cape_demo.py``) read the
same file.
"""
import base64
import copy
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import cv2
import numpy as np

from mmppm.datasets.coco_schema import annotation_keypoints
from mmppm.utils.errors import UserError
from mmppm.utils.numerics import env_limit, is_finite_number
from mmppm.visualization import skeleton_zero_based

#: COCO ``images[i]`` key holding the embedded PNG (base64).
IMAGE_DATA_KEY = 'mmppm_png_base64'
#: Pixels all the images of one support set may hold, decoded (5 supports of
#: 16 megapixels; each image also within the decoder's own limit):
#: ``MMPPM_MAX_SUPPORT_PIXELS`` raises it (docs/reliability.md).
MAX_SUPPORT_PIXELS = 80_000_000


def max_support_pixels() -> int:
    """:data:`MAX_SUPPORT_PIXELS`, or ``$MMPPM_MAX_SUPPORT_PIXELS`` if
    set."""
    return env_limit('MMPPM_MAX_SUPPORT_PIXELS', MAX_SUPPORT_PIXELS)


def frozen(image: np.ndarray) -> np.ndarray:
    """``image`` made read-only: support images are shared, not copied,
    between the page's states (:meth:`SupportSet.copy`), so none may be
    written in place."""
    image.setflags(write=False)
    return image


@dataclass
class SupportImage:
    """One annotated support image.

    Attributes:
        image (np.ndarray): BGR uint8 ``[H, W, 3]``.
        name (str): File name shown and saved.
        keypoints (np.ndarray): ``[K, 2]`` float32 image pixels, NaN where
            the keypoint is not placed on this image.
        visible (np.ndarray): ``[K]`` bool; False where not placed or marked
            not visible.
        bbox (list, optional): Object box ``[x1, y1, x2, y2]``; None: the
            whole image.
        corner (list, optional): First corner of a box being drawn.
    """
    image: np.ndarray
    name: str
    keypoints: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 2), np.float32))
    visible: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=bool))
    bbox: Optional[List[float]] = None
    corner: Optional[List[float]] = None

    @property
    def size(self) -> tuple:
        """``(w, h)``."""
        return self.image.shape[1], self.image.shape[0]

    def inside(self, x: float, y: float) -> bool:
        w, h = self.size
        return 0 <= x < w and 0 <= y < h


@dataclass
class SupportSet:
    """Support images sharing one list of keypoints (names, skeleton)."""
    images: List[SupportImage] = field(default_factory=list)
    names: List[str] = field(default_factory=list)
    skeleton: List[List[int]] = field(default_factory=list)

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def copy(self) -> 'SupportSet':
        """A copy for the page's next state: keypoints, boxes and names
        copied, the (read-only) images shared, not copied (a click used to
        deep-copy every decoded image)."""
        shared = {id(img.image): img.image for img in self.images}
        return copy.deepcopy(self, shared)

    def check_pixels(self, extra: int = 0, what: str = 'support set') -> None:
        """Refuse a set whose images hold more than :func:`max_support_pixels`
        pixels in all (with ``extra`` pixels about to be added)."""
        distinct = {id(img.image): img.image for img in self.images}
        total = extra + sum(
            int(a.shape[0]) * int(a.shape[1]) for a in distinct.values())
        limit = max_support_pixels()
        if total > limit:
            raise UserError(
                f'{what}: its images hold {total / 1e6:.1f} megapixels in '
                f'all, more than the {limit / 1e6:.0f} a support set may '
                'hold: use fewer or smaller support images (or raise '
                'MMPPM_MAX_SUPPORT_PIXELS)')

    # ------------------------------------------------------------ images
    def add_image(self, image: np.ndarray, name: str) -> int:
        """Append a BGR image (kept read-only: it is shared between the
        page's states); returns its index."""
        self.check_pixels(int(image.shape[0]) * int(image.shape[1]))
        k = self.num_keypoints
        self.images.append(
            SupportImage(
                image=frozen(image),
                name=name,
                keypoints=np.full((k, 2), np.nan, np.float32),
                visible=np.zeros(k, dtype=bool)))
        return len(self.images) - 1

    def remove_image(self, s: int) -> None:
        self._image(s)
        del self.images[s]

    def _image(self, s: int) -> SupportImage:
        if not 0 <= s < len(self.images):
            raise UserError(f'There is no support image {s + 1} (the set '
                            f'has {len(self.images)})')
        return self.images[s]

    def _point(self, s: int, x: float, y: float) -> SupportImage:
        img = self._image(s)
        if not img.inside(x, y):
            w, h = img.size
            raise UserError(f'({x:.0f}, {y:.0f}) is outside support image '
                            f'{s + 1} ({w} x {h} pixels)')
        return img

    # --------------------------------------------------------- keypoints
    def place(self, s: int, x: float, y: float) -> int:
        """Place the first keypoint not yet on image ``s`` (a new keypoint
        when all are placed); returns its index."""
        img = self._point(s, x, y)
        free = np.flatnonzero(np.isnan(img.keypoints[:, 0]))
        k = int(free[0]) if len(free) else self.add_keypoint()
        img.keypoints[k] = (x, y)
        img.visible[k] = True
        return k

    def add_keypoint(self, name: str = '') -> int:
        """A new keypoint, placed on no image yet; returns its index."""
        k = self.num_keypoints
        self.names.append(name or f'kpt{k}')
        for img in self.images:
            img.keypoints = np.vstack(
                [img.keypoints,
                 np.full((1, 2), np.nan, np.float32)])
            img.visible = np.append(img.visible, False)
        return k

    def move(self, s: int, k: int, x: float, y: float) -> None:
        """Put keypoint ``k`` of image ``s`` at ``(x, y)`` (visible)."""
        img = self._point(s, x, y)
        self._check_keypoint(k)
        img.keypoints[k] = (x, y)
        img.visible[k] = True

    def remove_keypoint(self, k: int) -> None:
        """Delete keypoint ``k`` from every image (later ones renumber)."""
        self._check_keypoint(k)
        del self.names[k]
        for img in self.images:
            img.keypoints = np.delete(img.keypoints, k, axis=0)
            img.visible = np.delete(img.visible, k)
        self.skeleton = [[a - (a > k), b - (b > k)] for a, b in self.skeleton
                         if k not in (a, b)]

    def toggle_visible(self, s: int, k: int) -> bool:
        """Mark keypoint ``k`` (not) visible on image ``s``; returns the new
        state."""
        img = self._image(s)
        self._check_keypoint(k)
        if np.isnan(img.keypoints[k, 0]):
            raise UserError(f'Keypoint {k} is not placed on support image '
                            f'{s + 1}: click it there first')
        img.visible[k] = not img.visible[k]
        return bool(img.visible[k])

    def _check_keypoint(self, k: int) -> None:
        if not 0 <= k < self.num_keypoints:
            raise UserError(f'There is no keypoint {k} (keypoints are '
                            f'numbered 0..{self.num_keypoints - 1})')

    def set_names(self, text: str) -> None:
        """Names from a comma-separated list (missing ones keep theirs)."""
        given = [n.strip() for n in text.split(',')] if text.strip() else []
        if len(given) > self.num_keypoints:
            raise UserError(f'{len(given)} names for {self.num_keypoints} '
                            'keypoints')
        for k, name in enumerate(given):
            if name:
                self.names[k] = name

    def set_skeleton(self, text: str) -> None:
        """Links ``"0-1 1-2"`` (0-based; commas or spaces between links)."""
        links = []
        for token in text.replace(',', ' ').split():
            parts = token.split('-')
            if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
                raise UserError(f'Skeleton: expected links like 0-1 1-2, '
                                f'got "{token}"')
            links.append([int(parts[0]), int(parts[1])])
        bad = [link for link in links if max(link) >= self.num_keypoints]
        if bad:
            raise UserError(f'Skeleton link {bad[0][0]}-{bad[0][1]} names a '
                            'keypoint that does not exist (keypoints are '
                            f'0..{self.num_keypoints - 1})')
        self.skeleton = links

    # --------------------------------------------------------------- box
    def box_corner(self, s: int, x: float, y: float) -> Optional[list]:
        """First click starts a box, the second closes it; returns the box
        when complete, else None."""
        img = self._point(s, x, y)
        if img.corner is None:
            img.corner = [x, y]
            return None
        (x0, y0), img.corner = img.corner, None
        if abs(x - x0) < 2 or abs(y - y0) < 2:
            raise UserError('The box is too small: click two opposite '
                            'corners of the object')
        img.bbox = [min(x0, x), min(y0, y), max(x0, x), max(y0, y)]
        return img.bbox

    def clear_box(self, s: int) -> None:
        img = self._image(s)
        img.bbox, img.corner = None, None

    # ----------------------------------------------------------- for use
    def check_ready(self) -> None:
        """Raise a ValueError naming what is missing before a run."""
        if not self.images:
            raise UserError('Add a support image first')
        if not self.num_keypoints:
            raise UserError('Place at least one keypoint: click on the '
                            'support image')
        for s, img in enumerate(self.images):
            if not img.visible.any():
                raise UserError(f'Support image {s + 1} ({img.name}) has no '
                                'visible keypoint: place one or remove the '
                                'image')
        seen = np.any([img.visible for img in self.images], axis=0)
        if not seen.all():
            k = int(np.flatnonzero(~seen)[0])
            raise UserError(f'Keypoint {k} ({self.names[k]}) is visible on '
                            'no support image: place it or remove it')

    def arrays(self) -> tuple:
        """``(images, keypoints [S, K, 3], bboxes [S, 4] xyxy)`` for
        :func:`mmppm.apis.inference_cape` (x, y, visibility; not placed
        keypoints at 0, 0 with visibility 0)."""
        self.check_ready()
        kpts = np.stack([
            np.concatenate([
                np.nan_to_num(img.keypoints), img.visible[:, None].astype(
                    np.float32)
            ], 1) for img in self.images
        ]).astype(np.float32)
        boxes = np.array([
            img.bbox if img.bbox is not None else [0, 0, *img.size]
            for img in self.images
        ],
                         dtype=np.float32)
        return [img.image for img in self.images], kpts, boxes

    # --------------------------------------------------------------- IO
    def to_coco(self, embed_images: bool = True) -> dict:
        """A COCO keypoint file: one annotation per support image
        (visibility 2 / 0), 1-based skeleton, images embedded as PNG."""
        images, annotations = [], []
        for i, img in enumerate(self.images):
            w, h = img.size
            entry = dict(id=i + 1, file_name=img.name, width=w, height=h)
            if embed_images:
                entry[IMAGE_DATA_KEY] = encode_png(img.image)
            images.append(entry)
            x1, y1, x2, y2 = img.bbox if img.bbox is not None else \
                [0, 0, w, h]
            kpts = []
            for (x, y), v in zip(img.keypoints, img.visible):
                placed = not np.isnan(x)
                kpts += [
                    float(x) if placed else 0.,
                    float(y) if placed else 0., 2 if v else 0
                ]
            annotations.append(
                dict(
                    id=i + 1,
                    image_id=i + 1,
                    category_id=1,
                    keypoints=kpts,
                    num_keypoints=int(img.visible.sum()),
                    bbox=[
                        float(x1),
                        float(y1),
                        float(x2 - x1),
                        float(y2 - y1)
                    ],
                    iscrowd=0))
        return dict(
            images=images,
            annotations=annotations,
            categories=[category_entry(self.names, self.skeleton)])

    @classmethod
    def from_coco(cls, data: dict, what: str = 'support set') -> 'SupportSet':
        """Read :meth:`to_coco` output (images must be embedded)."""
        if not isinstance(data, dict) or not isinstance(
                data.get('annotations'), list) or not data['annotations']:
            raise UserError(f'{what}: not a saved support set (a COCO '
                            'keypoint file with "images" and '
                            '"annotations")')
        if not isinstance(data.get('images'), list) or not all(
                isinstance(i, dict) for i in data['images']):
            raise UserError(f'{what}: "images" must be a list of objects')
        images = {img.get('id'): img for img in data['images']}
        cats = data.get('categories') or [{}]
        if not isinstance(cats, list) or not isinstance(cats[0], dict):
            raise UserError(f'{what}: "categories" must be a list of '
                            'objects')
        out = cls()
        counts = set()
        decoded = {}  # image id -> its one decoded array
        for i, ann in enumerate(data['annotations']):
            if not isinstance(ann, dict):
                raise UserError(f'{what}: annotations[{i}] is a '
                                f'{type(ann).__name__}, not an object')
            where = f'{what}: annotation {ann.get("id", i)}'
            img = images.get(ann.get('image_id'))
            if img is None or IMAGE_DATA_KEY not in img:
                raise UserError(f'{where} has no embedded image (save the '
                                'set from the web page)')
            kpts = annotation_keypoints(ann, where)  # [K, 3]
            if not len(kpts):
                raise UserError(f'{where} has 0 keypoint values (not x, y, '
                                'v triples)')
            counts.add(len(kpts))
            vis = kpts[:, 2] > 0
            xy = kpts[:, :2].copy()
            xy[~vis & (xy == 0).all(1)] = np.nan
            box = ann.get('bbox')
            if box is not None and not (
                    isinstance(box, list) and len(box) == 4
                    and all(is_finite_number(v)
                            for v in box) and box[2] > 0 and box[3] > 0):
                raise UserError(f'{where}: "bbox" must be 4 finite numbers '
                                f'[x, y, width > 0, height > 0], got {box}')
            key = id(img)
            if key not in decoded:  # each embedded image decoded once
                image = decode_png(img[IMAGE_DATA_KEY],
                                   f'{what}: image {img.get("id")}')
                out.check_pixels(image.shape[0] * image.shape[1], what)
                decoded[key] = frozen(image)
            out.images.append(
                SupportImage(
                    image=decoded[key],
                    name=str(
                        img.get('file_name', f'support{len(out.images)}')),
                    keypoints=xy,
                    visible=vis,
                    bbox=None if box is None else
                    [box[0], box[1], box[0] + box[2], box[1] + box[3]]))
        if len(counts) != 1:
            raise UserError(f'{what}: images have different keypoint '
                            f'counts {sorted(counts)}')
        for s, img in enumerate(out.images):
            for k in np.flatnonzero(img.visible):
                if not img.inside(*img.keypoints[k]):
                    x, y = img.keypoints[k]
                    w, h = img.size
                    raise UserError(
                        f'{what}: keypoint {k} of image {s + 1} '
                        f'({img.name}) at ({x:.1f}, {y:.1f}) is outside the '
                        f'{w} x {h} image')
        k = counts.pop()
        names = list(cats[0].get('keypoints') or [])
        out.names = names if len(names) == k else [f'kpt{i}' for i in range(k)]
        try:
            out.skeleton = skeleton_zero_based(cats[0].get('skeleton'), k)
        except UserError as e:
            raise UserError(f'{what}: category "skeleton": {e}') from None
        return out


def category_entry(names: Sequence[str], skeleton: Sequence) -> dict:
    """COCO category with keypoint names and a 1-based skeleton."""
    return dict(
        id=1,
        name='custom',
        supercategory='custom',
        keypoints=list(names),
        skeleton=[[int(a) + 1, int(b) + 1] for a, b in skeleton])


def encode_png(image: np.ndarray) -> str:
    ok, buf = cv2.imencode('.png', image)
    if not ok:
        raise UserError('Could not encode the image as PNG')
    return base64.b64encode(buf.tobytes()).decode('ascii')


def decode_png(text: str, what: str) -> np.ndarray:
    """An embedded image (base64), measured before it is decoded by the
    guarded decoder (:func:`mmppm.utils.image_decoder.decode_image`)."""
    from mmppm.utils.image_decoder import decode_image
    if not isinstance(text, str):
        raise UserError(f'{what}: the embedded image must be a base64 '
                        f'string, got {type(text).__name__}')
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise UserError(f'{what} is not base64 data') from None
    return decode_image(raw, what)
