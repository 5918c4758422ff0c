# Copyright (c) mmppm contributors. All rights reserved.
"""Image files in and output names out (the demo and the web page)."""
import os.path as osp
from typing import List, Sequence

#: File endings read as images.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def unique_stems(paths: Sequence[str]) -> List[str]:
    """File stems, made unique (``a``, ``a_2``, ...): one output name per
    input, also for inputs from different folders with the same name, and
    never one that another input's own stem already is (``a.jpg``,
    ``a.jpg``, ``a_2.jpg`` -> ``a``, ``a_3``, ``a_2``)."""
    stems = [osp.splitext(osp.basename(str(p)))[0] for p in paths]
    taken, names = set(), []
    own = set(stems)
    for stem in stems:
        name, n = stem, 1
        # a later input named like this suffix keeps its own name
        while name in taken or (n > 1 and name in own):
            n += 1
            name = f'{stem}_{n}'
        taken.add(name)
        names.append(name)
    return names
