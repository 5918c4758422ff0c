# Copyright (c) mmppm contributors. All rights reserved.
"""The schema of a COCO keypoint file, checked when it is loaded.

Every problem is one ``ValueError`` naming the file, the entry (its list,
index and id) and the field, before any work starts: a string where a
number belongs, a missing ``file_name``, ``null`` or NaN keypoints, a
3-value bbox, two images or annotations sharing an id (which would pair an
annotation with the wrong picture), a category whose annotations disagree
on K (the odd ones out are named, not the first).

:func:`annotation_keypoints` and :func:`check_bbox` read one annotation's
``"keypoints"`` and ``"bbox"``, with the same messages, wherever a COCO file
comes in: the dataset (here), a support file of the inference API
(:func:`mmppm.apis.read_coco_support`) and a support set saved by the web
page (:meth:`mmppm.webui.support_set.SupportSet.from_coco`).
"""
import math
from collections import Counter
from typing import Dict, List

import numpy as np

from mmppm.utils.errors import UserError
from mmppm.utils.numerics import env_limit, is_finite_number, is_number

_NUMBER = (int, float)
#: Keypoints one category may have (MP-100's largest has 68): each is a
#: prompt fitted and a map per image, so memory grows with it (1,000
#: keypoints in an 18 KB file took 4.3 GiB for one fit step).
#: ``MMPPM_MAX_KEYPOINTS`` raises it (docs/reliability.md).
MAX_KEYPOINTS = 200


def max_keypoints() -> int:
    """The keypoint limit: ``$MMPPM_MAX_KEYPOINTS`` if set, else
    :data:`MAX_KEYPOINTS`."""
    return env_limit('MMPPM_MAX_KEYPOINTS', MAX_KEYPOINTS)


def check_keypoint_count(count: int, where: str) -> None:
    """Refuse more keypoints than :func:`max_keypoints`, before any
    image is read or prompt fitted; ``where`` starts the message."""
    limit = max_keypoints()
    if count > limit:
        raise UserError(
            f'{where} has {count} keypoints, more than the limit of {limit} '
            'per category (each is a fitted prompt and a map per image); '
            'set MMPPM_MAX_KEYPOINTS to allow more')


def annotation_keypoints(ann: dict, where: str) -> np.ndarray:
    """The ``"keypoints"`` of a COCO annotation as ``[K, 3]`` rows
    ``(x, y, v)``, checked.

    Args:
        ann (dict): One entry of ``"annotations"``.
        where (str): The file and entry, the start of every message (e.g.
            ``'ann.json: annotations[3] (id 7)'``).

    Returns:
        np.ndarray: ``[K, 3]`` float32 (K may be 0 for ``[]``).

    Raises:
        UserError: One line: not a flat list of numbers (``null``,
            strings, nested lists), not x, y, v triples, NaN / infinity,
            or more keypoints than :func:`max_keypoints`.
    """
    kpts = ann.get('keypoints')
    if not isinstance(kpts, list) or not all(is_number(v) for v in kpts):
        raise UserError(
            f'{where} has "keypoints": {str(kpts)[:40]!s} that are '
            'not a flat list of numbers (x, y, v per keypoint)')
    if len(kpts) % 3:
        raise UserError(f'{where} has {len(kpts)} keypoint values, not a '
                        'multiple of 3 (x, y, v per keypoint)')
    check_keypoint_count(len(kpts) // 3, where)
    if not all(math.isfinite(v) for v in kpts):
        raise UserError(f'{where} has non-finite keypoint coordinates (NaN '
                        'or infinity)')
    return np.asarray(kpts, dtype=np.float32).reshape(-1, 3)


def check_bbox(box, where: str) -> None:
    """Raise unless ``box`` is a COCO ``"bbox"``: a list of 4 finite numbers
    ``[x, y, width, height]``; ``where`` starts the message."""
    if not (isinstance(box, list) and len(box) == 4
            and all(is_finite_number(v) for v in box)):
        raise UserError(f'{where} has "bbox": {box!r}; expected 4 finite '
                        'numbers [x, y, width, height]')


def _expected(types) -> str:
    """What a field of the given type check must hold, in words."""
    if types is _NUMBER:
        return 'a number'
    return 'a string' if types is str else 'an integer or string id'


def _entry(kind: str, index: int, item) -> str:
    ident = item.get('id') if isinstance(item, dict) else None
    return f'{kind}[{index}]' + (f' (id {ident!r})'
                                 if ident is not None else '')


def _check_ids(ann_file: str, kind: str, items: List[dict]) -> None:
    seen: Dict[object, int] = {}
    for i, item in enumerate(items):
        ident = item['id']
        if ident in seen:
            j = seen[ident]
            extra = ''
            if kind == 'images':
                extra = (f': {items[j].get("file_name")!r} and '
                         f'{item.get("file_name")!r}')
            raise UserError(
                f'{ann_file}: {kind}[{j}] and {kind}[{i}] share the id '
                f'{ident!r}{extra}; ids must be unique')
        seen[ident] = i


def check_coco_keypoints(data: dict, ann_file: str) -> None:
    """Check the ``images``, ``annotations`` and ``categories`` of a parsed
    COCO keypoint file (the lists themselves are checked by the loader).

    Raises:
        ValueError: The first problem found, in one line.
    """
    for kind, fields in (('images',
                          dict(
                              id=None,
                              file_name=str,
                              width=_NUMBER,
                              height=_NUMBER)), ('categories', dict(id=None)),
                         ('annotations',
                          dict(id=None, image_id=None, category_id=None))):
        for i, item in enumerate(data[kind]):
            if not isinstance(item, dict):
                raise UserError(f'{ann_file}: {kind}[{i}] is a '
                                f'{type(item).__name__}, not an object')
            for field, types in fields.items():
                if field not in item:
                    raise UserError(f'{ann_file}: {_entry(kind, i, item)} '
                                    f'has no "{field}"')
                value = item[field]
                bad = (types is _NUMBER and not is_number(value)) or (
                    types is str and not isinstance(value, str)) or (
                        types is None and not isinstance(value, (int, str)))
                if bad:
                    raise UserError(f'{ann_file}: {_entry(kind, i, item)} has '
                                    f'"{field}": {value!r}; expected '
                                    f'{_expected(types)}')
            if kind == 'images' and not (item['width'] > 0
                                         and item['height'] > 0):
                raise UserError(
                    f'{ann_file}: {_entry(kind, i, item)} has width '
                    f'{item["width"]} and height {item["height"]}; both '
                    'must be > 0')
        _check_ids(ann_file, kind, data[kind])
    counts: Dict[object, Counter] = {}
    for i, ann in enumerate(data['annotations']):
        where = f'{ann_file}: {_entry("annotations", i, ann)}'
        if 'keypoints' in ann:
            k = len(annotation_keypoints(ann, where))
            counts.setdefault(ann['category_id'], Counter())[k] += 1
        if 'bbox' in ann:
            check_bbox(ann['bbox'], where)
    names = {c['id']: c.get('name', c['id']) for c in data['categories']}
    for cat_id, counter in counts.items():
        if len(counter) > 1:  # the majority's K is right, the rest are not
            k, n = counter.most_common(1)[0]
            odd = [(a.get('id'), len(a['keypoints']) // 3)
                   for a in data['annotations'] if a['category_id'] == cat_id
                   and 'keypoints' in a and len(a['keypoints']) // 3 != k]
            more = f' (also ids {[i for i, _ in odd[1:6]]})' if len(
                odd) > 1 else ''
            raise UserError(
                f'{ann_file}: annotation id {odd[0][0]} (category '
                f'"{names.get(cat_id, cat_id)}", id {cat_id}) has '
                f'{odd[0][1]} keypoints but {n} of the category\'s '
                f'{sum(counter.values())} annotations have {k}{more}')
