# Copyright (c) mmppm contributors. All rights reserved.
"""Captioned scenes of the look-alike toy world, for the word-localisation
check only (projects/toy_sd/README.md, "The look-alike world"): does the
toy SD, pretrained on the first world's scenes, localise the words of a
look-alike instance's blobs in its drawn colouring? Never used in
training."""
from typing import Dict

import cv2
import numpy as np

from mmppm.datasets.toy_world.lookalike import (make_lookalike_instance,
                                                make_lookalike_template)
from mmppm.datasets.toy_world.words import blob_word
from .captioned_scenes import PRETRAIN_STREAM, crop_transform, jpeg_round_trip

#: Third entry of these scenes' seed stream (the pretraining scenes use
#: ``[seed, PRETRAIN_STREAM, index]``, the toy categories other streams).
LOOKALIKE_TAG = 2


def render_lookalike_scene(seed: int,
                           index: int,
                           crop_size: int = 128) -> Dict[str, object]:
    """One look-alike instance, cropped as the pretraining scenes are, with
    the caption of its drawn morph: every visible blob's word once (twins
    share one), in the keypoints' order.

    Returns:
        dict: as :func:`.captioned_scenes.render_scene` (``image``,
        ``caption``, ``words``, ``blobs`` per word), plus ``twin``: per word,
        whether it names a pair of twins.
    """
    rng = np.random.default_rng([seed, PRETRAIN_STREAM, LOOKALIKE_TAG, index])
    tpl = make_lookalike_template(rng, int(rng.integers(8, 21)))
    img, kpts, bbox, radius, morph = make_lookalike_instance(
        rng, tpl, (176, 256))
    warp = crop_transform(bbox, None, crop_size)
    crop = cv2.warpAffine(
        jpeg_round_trip(img),
        warp, (crop_size, crop_size),
        flags=cv2.INTER_LINEAR)
    xy = cv2.transform(kpts[None, :, :2].astype(np.float32), warp)[0]
    scale = float(np.sqrt(abs(np.linalg.det(warp[:, :2]))))
    hues, shapes = tpl['morphs'][morph]['hues'], tpl['shapes']
    shown = [
        k for k in range(len(kpts)) if kpts[k, 2] > 0 and tpl['marked'][k]
    ]
    words, blobs, twin = [], [], []
    for k in shown:
        look = tpl['look'][k]
        word = blob_word(hues[look][0], hues[look][1], shapes[look])
        if word in words:
            continue
        ids = [j for j in shown if tpl['look'][j] == look]
        words.append(word)
        blobs.append(
            np.array([[xy[j, 0], xy[j, 1], radius * scale] for j in ids],
                     np.float32))
        twin.append(tpl['kinds'][k] == 'twin')
    return dict(
        image=crop,
        caption=' '.join(words),
        words=words,
        blobs=blobs,
        twin=twin)
