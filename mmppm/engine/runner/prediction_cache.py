# Copyright (c) mmppm contributors. All rights reserved.
"""Append-only, crash-tolerant store of per-episode test predictions.

Layout: ``{cache_dir}/{run_tag}_rank{r}.jsonl``, one file per process and
run, one JSON line per finished batch ``{"version": 2, "episodes": [[id,
[outputs...]], ...]}``, flushed and fsync'd. Outputs are data elements
(``PoseDataSample`` with ``InstanceData`` / ``PixelData`` fields) written as
plain JSON: reading a cache can never run code (no pickle), and only the
known element types are rebuilt. Reading takes every ``*.jsonl`` in the
folder (so a rerun may use a different number of processes) and ignores
every other file; a damaged or truncated line ends the reading of its file
(the episodes in it are simply computed again).
"""
import glob
import json
import logging
import os
import os.path as osp
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement, InstanceData, PixelData
from mmpose.structures import PoseDataSample

_VERSION = 2
#: The data element types a cache may hold (rebuilt by name, nothing else).
ELEMENT_TYPES = {
    cls.__name__: cls
    for cls in (BaseDataElement, InstanceData, PixelData, PoseDataSample)
}
#: Fields not worth caching (large; only pictures use them).
SKIPPED_FIELDS = ('pred_fields', 'gt_fields', 'fit_fields')


def to_jsonable(value: Any) -> Any:
    """A JSON-serialisable form of a prediction (arrays tagged with their
    dtype and shape, data elements with their type)."""
    if isinstance(value, BaseDataElement):
        name = type(value).__name__
        if name not in ELEMENT_TYPES:
            raise TypeError(f'cannot cache a {name}')
        fields = {
            k: to_jsonable(v)
            for k, v in value.items() if k not in SKIPPED_FIELDS
        }
        return {
            '__element__': name,
            'metainfo': to_jsonable(dict(value.metainfo)),
            'fields': fields
        }
    if isinstance(value, torch.Tensor):
        return dict(to_jsonable(value.detach().cpu().numpy()), torch=True)
    if isinstance(value, np.ndarray):
        return {
            '__array__': value.tolist(),
            'dtype': str(value.dtype),
            'shape': list(value.shape)
        }
    if isinstance(value, np.generic):
        return to_jsonable(np.asarray(value))
    if isinstance(value, dict):
        return {
            '__dict__':
            [[to_jsonable(k), to_jsonable(v)] for k, v in value.items()]
        }
    if isinstance(value, (list, tuple)):
        return {
            '__list__': [to_jsonable(v) for v in value],
            'tuple': isinstance(value, tuple)
        }
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f'cannot cache a {type(value).__name__}')


def from_jsonable(value: Any) -> Any:
    """Inverse of :func:`to_jsonable`; anything else is rejected."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, dict):
        raise ValueError('not a prediction record')
    if '__element__' in value:
        cls = ELEMENT_TYPES[value['__element__']]  # KeyError: unknown type
        element = cls(metainfo=from_jsonable(value['metainfo']))
        for k, v in value['fields'].items():
            element.set_field(from_jsonable(v), k)
        return element
    if '__array__' in value:
        array = np.asarray(
            value['__array__'],
            dtype=np.dtype(value['dtype'])).reshape(value['shape'])
        return torch.from_numpy(array) if value.get('torch') else array
    if '__dict__' in value:
        return {
            from_jsonable(k): from_jsonable(v)
            for k, v in value['__dict__']
        }
    if '__list__' in value:
        items = [from_jsonable(v) for v in value['__list__']]
        return tuple(items) if value.get('tuple') else items
    raise ValueError('not a prediction record')


def read_prediction_records(cache_dir: str) -> Dict[Any, List[Any]]:
    """Read every record of every ``*.jsonl`` file in ``cache_dir``.

    Args:
        cache_dir (str): The cache folder (may not exist).

    Returns:
        dict: Episode id -> cached outputs. If an episode appears more than
        once (recomputed after a reshard), the first record read wins; the
        outputs are deterministic given the cache key, so all are equal.
    """
    episodes: Dict[Any, List[Any]] = {}
    for path in sorted(glob.glob(osp.join(cache_dir, '*.jsonl'))):
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, 1):
                try:
                    record = json.loads(line)
                    if not (isinstance(record, dict)
                            and record.get('version') == _VERSION):
                        raise ValueError('not a prediction record')
                    batch = [(from_jsonable(episode_id), from_jsonable(out))
                             for episode_id, out in record['episodes']]
                except Exception as e:  # truncated / corrupt tail
                    print_log(
                        f'Ignoring a damaged prediction record at line '
                        f'{number} of {path} and the rest of that file '
                        f'({type(e).__name__}: {e}); those episodes will '
                        'be computed again.',
                        logger='current',
                        level=logging.WARNING)
                    break
                for episode_id, outputs in batch:
                    episodes.setdefault(episode_id, outputs)
    return episodes


class PredictionWriter:
    """Appends records to one file, durably, opening it on first use.

    Args:
        path (str): The file to append to; its folder is created.
    """

    def __init__(self, path: str):
        self.path = path
        self._file: Optional[Any] = None

    def write(self, episodes: Dict[Any, List[Any]]) -> None:
        """Append one record and make it durable before returning.

        Args:
            episodes (dict): Episode id -> outputs of one finished batch.

        Raises:
            TypeError: If an output holds something that cannot be cached
                as plain data (nothing is written then).
        """
        line = json.dumps(
            dict(
                version=_VERSION,
                episodes=[[to_jsonable(k), to_jsonable(v)]
                          for k, v in episodes.items()])) + '\n'
        if self._file is None:
            os.makedirs(osp.dirname(self.path), exist_ok=True)
            self._file = open(self.path, 'a', encoding='utf-8')
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file if it was opened."""
        if self._file is not None:
            self._file.close()
            self._file = None
