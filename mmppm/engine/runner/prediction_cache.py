# Copyright (c) mmppm contributors. All rights reserved.
"""Append-only, crash-tolerant store of per-episode test predictions.

Layout: ``{cache_dir}/{run_tag}_rank{r}.pkl``, one file per process and run,
each a sequence of pickle records ``dict(version=1, episodes={episode_id:
[outputs]})`` written one per finished batch, flushed and fsync'd. Reading
takes every ``*.pkl`` in the folder, so a rerun may use a different number of
processes; a damaged or truncated record ends the reading of its file (the
episodes in it are simply computed again).
"""
import glob
import logging
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional

from mmengine.logging import print_log

_VERSION = 1


def read_prediction_records(cache_dir: str) -> Dict[Any, List[Any]]:
    """Read every record of every file in ``cache_dir``.

    Args:
        cache_dir (str): The cache folder (may not exist).

    Returns:
        dict: Episode id -> cached outputs. If an episode appears more than
        once (recomputed after a reshard), the first record read wins; the
        outputs are deterministic given the cache name, so all are equal.
    """
    episodes: Dict[Any, List[Any]] = {}
    for path in sorted(glob.glob(osp.join(cache_dir, '*.pkl'))):
        size = osp.getsize(path)
        with open(path, 'rb') as f:
            while f.tell() < size:
                start = f.tell()
                try:
                    record = pickle.load(f)
                    if not (isinstance(record, dict)
                            and record.get('version') == _VERSION):
                        raise ValueError('not a prediction record')
                except Exception as e:  # truncated / corrupt tail
                    print_log(
                        f'Ignoring a damaged prediction record at byte '
                        f'{start} of {path} and the rest of that file '
                        f'({type(e).__name__}: {e}); those episodes will '
                        'be computed again.',
                        logger='current',
                        level=logging.WARNING)
                    break
                for episode_id, outputs in record['episodes'].items():
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
        """
        data = pickle.dumps(dict(version=_VERSION, episodes=episodes),
                            protocol=pickle.HIGHEST_PROTOCOL)
        if self._file is None:
            os.makedirs(osp.dirname(self.path), exist_ok=True)
            self._file = open(self.path, 'ab')
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file if it was opened."""
        if self._file is not None:
            self._file.close()
            self._file = None
