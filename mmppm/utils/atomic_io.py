# Copyright (c) mmppm contributors. All rights reserved.
"""Writes that a later run reads, made atomic: write beside, fsync, rename."""
import json
import os
import os.path as osp
import tempfile
from typing import Any


def dump_json_atomic(obj: Any, path: str) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (:func:`write_text_atomic`).

    Args:
        obj: A JSON-serialisable object.
        path (str): The destination; its folder is created if needed.
    """
    write_text_atomic(json.dumps(obj), path)


def write_text_atomic(text: str, path: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the
    whole new one, never a part (a temporary file in the same folder,
    flushed and fsync'd, then ``os.replace``).

    Args:
        text (str): The content.
        path (str): The destination; its folder is created if needed.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.',
                               suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
