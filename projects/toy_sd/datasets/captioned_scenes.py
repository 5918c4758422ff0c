# Copyright (c) mmppm contributors. All rights reserved.
"""Captioned scenes of the toy world: the toy SD's pretraining data.

Stable Diffusion was pretrained on web images with captions, not on MP-100;
the toy SD is pretrained on these scenes, not on the toy MP-100 set. Each
scene is an object of a *fresh* template (its own keypoint tree, colours and
shapes), drawn with the toy world's code (:mod:`.drawing`: blobs, limbs,
clutter, occluders) from the seed stream ``[seed, PRETRAIN_STREAM, index]``,
which the toy MP-100 categories (stream ``[seed, category]``) never use. The
object is cropped as the PPM pipeline crops (bbox x 1.25, square, resized),
with random scale, rotation and shift. Its caption is the words of its
visible blobs (:func:`.words.blob_word`) in random order; a word can be
dropped (``word_dropout``: that blob goes undescribed) and a whole caption
emptied (``caption_dropout``, classifier-free style). Where each caption
word's blobs lie in the crop travels with the sample, for the grounding
term of the toy SD's training (projects/toy_sd/README.md).
"""
import io
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmpose.registry import DATASETS
from mmpose.structures import PoseDataSample
from mmpose.structures.bbox import get_warp_matrix
from PIL import Image

from mmppm.datasets.toy_world.drawing import make_instance, make_template
from mmppm.utils.errors import UserError

#: Second entry of the pretraining scenes' seed stream.
PRETRAIN_STREAM = 7919


def crop_transform(bbox_xywh: Sequence[float],
                   rng: Optional[np.random.Generator],
                   crop_size: int,
                   scale_range: Tuple[float, float] = (1., 1.),
                   rotate: float = 0.,
                   rotate_prob: float = 0.,
                   shift: float = 0.,
                   shift_prob: float = 0.) -> np.ndarray:
    """The affine ``[2, 3]`` of the PPM crop, optionally jittered.

    As mmpose's ``GetBBoxCenterScale(padding=1.25)`` + ``TopdownAffine`` (a
    square window 1.25 x the bbox's longer side, resized to ``crop_size``),
    with ``RandomBBoxTransform``'s jitter: scale factor drawn from
    ``scale_range``, rotation in ``[-rotate, rotate]`` degrees with
    ``rotate_prob``, shift up to ``shift`` x the window with ``shift_prob``.

    Args:
        bbox_xywh (Sequence[float]): The object's box.
        rng (np.random.Generator, optional): Source of the jitter; None for
            the plain crop.
        crop_size (int): Output side in pixels.

    Returns:
        np.ndarray: The image -> crop affine, ``[2, 3]``.
    """
    x, y, w, h = (float(v) for v in bbox_xywh)
    center = np.array([x + w / 2, y + h / 2], np.float32)
    side = max(w, h) * 1.25
    rot = 0.
    if rng is not None:
        side *= rng.uniform(*scale_range)
        if rng.uniform() < shift_prob:
            center += rng.uniform(-shift, shift, 2) * side
        if rng.uniform() < rotate_prob:
            rot = rng.uniform(-rotate, rotate)
    return get_warp_matrix(center, np.array([side, side], np.float32), rot,
                           (crop_size, crop_size))


def jpeg_round_trip(img: Image.Image, quality: int = 92) -> np.ndarray:
    """The image as the toy MP-100 files hold it (JPEG), BGR uint8."""
    buf = io.BytesIO()
    img.save(buf, format='JPEG', quality=quality)
    return cv2.imdecode(
        np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_COLOR)


def caption_of(words: Sequence[str], rng: np.random.Generator,
               word_dropout: float, caption_dropout: float) -> List[str]:
    """The caption's words: each distinct word once, in random order, each
    kept with ``1 - word_dropout``; none with ``caption_dropout``."""
    distinct = sorted(set(words))
    order = rng.permutation(len(distinct))
    keep = rng.uniform(size=len(distinct)) >= word_dropout
    if rng.uniform() < caption_dropout:
        return []
    return [distinct[i] for i in order if keep[i]]


def render_scene(seed: int,
                 index: int,
                 crop_size: int = 128,
                 num_keypoints: Tuple[int, int] = (3, 20),
                 img_size: Tuple[int, int] = (176, 256),
                 word_dropout: float = 0.1,
                 caption_dropout: float = 0.1,
                 augment: Optional[dict] = None) -> Dict[str, object]:
    """One captioned scene, deterministic from ``(seed, index)``.

    Args:
        seed (int): The world's seed.
        index (int): The scene's number.
        crop_size (int): Side of the crop. Defaults to 128.
        num_keypoints (tuple[int, int]): Inclusive range of blobs per
            object. Defaults to (3, 20).
        img_size (tuple[int, int]): Inclusive range of image sides before
            the crop (as the toy MP-100 images). Defaults to (176, 256).
        word_dropout (float): See :func:`caption_of`. Defaults to 0.1.
        caption_dropout (float): See :func:`caption_of`. Defaults to 0.1.
        augment (dict, optional): Keyword arguments of
            :func:`crop_transform`'s jitter. Defaults to None (no jitter).

    Returns:
        dict: ``image`` (BGR uint8 ``[crop, crop, 3]``), ``caption`` (str),
        ``words`` (the caption's words) and ``blobs``: per caption word a
        ``[n, 3]`` array of its blobs' ``(x, y, radius)`` in crop pixels.
    """
    rng = np.random.default_rng([seed, PRETRAIN_STREAM, index])
    k = int(rng.integers(num_keypoints[0], num_keypoints[1] + 1))
    tpl = make_template(rng, k)
    img, kpts, bbox, radius = make_instance(rng, tpl, img_size)
    warp = crop_transform(bbox, rng if augment else None, crop_size,
                          **(augment or {}))
    crop = cv2.warpAffine(
        jpeg_round_trip(img),
        warp, (crop_size, crop_size),
        flags=cv2.INTER_LINEAR)
    visible = kpts[:, 2] > 0
    xy = cv2.transform(kpts[None, :, :2].astype(np.float32), warp)[0]
    scale = float(np.sqrt(abs(np.linalg.det(warp[:, :2]))))
    words = caption_of([tpl['words'][i] for i in np.flatnonzero(visible)], rng,
                       word_dropout, caption_dropout)
    blobs = []
    for word in words:
        ids = [i for i in np.flatnonzero(visible) if tpl['words'][i] == word]
        blobs.append(
            np.array([[xy[i, 0], xy[i, 1], radius * scale] for i in ids],
                     np.float32))
    return dict(image=crop, caption=' '.join(words), words=words, blobs=blobs)


@DATASETS.register_module()
class CaptionedToyScenes(torch.utils.data.Dataset):
    """Captioned toy scenes generated on the fly (:func:`render_scene`).

    A sample is mmpose-shaped: ``inputs`` a BGR uint8 ``[3, H, W]`` tensor
    (as ``LoadImage`` + ``PackPoseInputs`` give), ``data_samples`` a
    ``PoseDataSample`` with ``caption``, ``words`` and ``word_blobs`` in its
    metainfo. Item ``i`` is always the same scene.

    Args:
        seed (int): The world's seed. Defaults to 0.
        length (int): Number of distinct scenes. Defaults to 10 ** 6.
        crop_size (int): Defaults to 128 (the toy PPM configs' SD input).
        num_keypoints (tuple[int, int]): Defaults to (3, 20).
        img_size (tuple[int, int]): Defaults to (176, 256).
        word_dropout (float): Defaults to 0.1.
        caption_dropout (float): Defaults to 0.1.
        augment (dict, optional): :func:`crop_transform` jitter. Defaults to
            scale 0.75-1.25, rotation +-45 degrees (p 0.6), shift 0.1
            (p 0.5).
    """

    def __init__(
        self,
        seed: int = 0,
        length: int = 10**6,
        crop_size: int = 128,
        num_keypoints: Tuple[int, int] = (3, 20),
        img_size: Tuple[int, int] = (176, 256),
        word_dropout: float = 0.1,
        caption_dropout: float = 0.1,
        augment: Optional[dict] = dict(
            scale_range=(0.75, 1.25),
            rotate=45.,
            rotate_prob=0.6,
            shift=0.1,
            shift_prob=0.5)
    ) -> None:
        for name, p in (('word_dropout', word_dropout), ('caption_dropout',
                                                         caption_dropout)):
            if not 0 <= p <= 1:
                raise UserError(f'CaptionedToyScenes: {name} must be in '
                                f'[0, 1], got {p!r}')
        if int(length) < 1:
            raise UserError(
                f'CaptionedToyScenes: length must be >= 1, got {length!r}')
        self.kwargs = dict(
            crop_size=int(crop_size),
            num_keypoints=tuple(num_keypoints),
            img_size=tuple(img_size),
            word_dropout=float(word_dropout),
            caption_dropout=float(caption_dropout),
            augment=dict(augment) if augment else None)
        self.seed = int(seed)
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        scene = render_scene(self.seed, int(index), **self.kwargs)
        sample = PoseDataSample(
            metainfo=dict(
                caption=scene['caption'],
                words=scene['words'],
                word_blobs=scene['blobs'],
                scene_index=int(index)))
        inputs = torch.from_numpy(
            np.ascontiguousarray(scene['image'].transpose(2, 0, 1)))
        return dict(inputs=inputs, data_samples=sample)
