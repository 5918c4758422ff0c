# Copyright (c) mmppm contributors. All rights reserved.
"""The toy world's words: one per kind of blob (hue bin, tone, shape).

A blob of hue ``h`` (in [0, 1)), drawn bright (HSV value 0.95) or dark
(0.65), in one of four shapes, is described by one word such as
``'brightazurering'``: 12 hue bins x 2 tones x 4 shapes = 96 words. The
captions of the toy SD's pretraining scenes are made of these words
(:mod:`projects.toy_sd.datasets.captioned_scenes`) and the toy MP-100
keypoints are named by them (:mod:`.toy_mp100`), so the caption word of a
keypoint's blob is a prompt known to localise it in a model trained on the
captions (projects/toy_sd/README.md).
Words are letters only, so that CLIP's tokenizer keeps each one whole.
"""
from typing import List

#: Hue bins, centred on multiples of 30 degrees (red at 0).
HUES = ('red', 'orange', 'yellow', 'lime', 'green', 'mint', 'cyan', 'azure',
        'blue', 'violet', 'magenta', 'pink')
TONES = ('bright', 'dark')
#: Blob shapes in the order of :func:`.drawing.draw_blob`'s ``shape``.
SHAPES = ('disc', 'square', 'ring', 'diamond')


def hue_bin(hue: float) -> int:
    """Index into :data:`HUES` of the nearest bin centre (hue in [0, 1))."""
    return int(round(float(hue) * len(HUES))) % len(HUES)


def blob_word(hue: float, bright: bool, shape: int) -> str:
    """The word of a blob: tone, hue bin and shape, e.g. ``'darkredring'``."""
    return TONES[0 if bright else 1] + HUES[hue_bin(hue)] + SHAPES[shape]


def all_words() -> List[str]:
    """Every blob word, in a fixed order (tone, hue, shape)."""
    return [t + h + s for t in TONES for h in HUES for s in SHAPES]
