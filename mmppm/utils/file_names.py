# Copyright (c) mmppm contributors. All rights reserved.
"""Image files in and output names out (the demo and the web page)."""
import os.path as osp
from typing import List, Sequence

#: File endings read as images.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def unique_stems(paths: Sequence[str]) -> List[str]:
    """File stems, made unique (``a``, ``a_2``, ...): one output name per
    input, also for inputs from different folders with the same name."""
    names, seen = [], {}
    for path in paths:
        stem = osp.splitext(osp.basename(str(path)))[0]
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f'{stem}_{seen[stem]}')
    return names
