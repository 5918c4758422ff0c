# Copyright (c) mmppm contributors. All rights reserved.
"""Writes that a later run reads: all or nothing (docs/reliability.md).

A file is written beside its target under a hidden temporary name, flushed,
``fsync``'d, and renamed over the target (``os.replace``, atomic on POSIX);
a failed write (a full disk, a killed process) removes the temporary file,
so the target keeps its previous content or stays absent. The result has
the mode a plain write gives (:func:`plain_mode`). A folder (an
exported model) is built under a temporary name and swapped in the same way.
:class:`AtomicLocalBackend` gives mmengine's checkpoint saving the same
guarantee (``backend_args=dict(backend='mmppm_atomic_local')``).
"""
import contextlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Any, Iterator, Optional, Union

from mmengine.fileio.backends import LocalBackend, register_backend

#: Temporary files and folders start with this (never matched by ``*.pth``).
TEMP_PREFIX = '.mmppm_tmp_'


def _write_all(f, data: bytes, path: str) -> None:
    """Write ``data`` to the open binary file ``f`` that will become
    ``path`` (one place tests can fill the disk in)."""
    f.write(data)


def _umask() -> int:
    """The process's umask (read by setting it, then restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def plain_mode(path: str, folder: bool = False) -> int:
    """The mode a plain ``open(path, 'w')`` (or ``os.makedirs``) would
    give: an existing file's own mode, else 0666 (0777 for a folder) less
    the umask. ``tempfile`` creates 0600 / 0700, which a checkpoint or a
    data file written for others to read must not keep."""
    if osp.exists(path) and not folder:
        return os.stat(path).st_mode & 0o7777
    return (0o777 if folder else 0o666) & ~_umask()


def _fsync_dir(folder: str) -> None:
    """Make a rename in ``folder`` durable (not possible everywhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str, data: Union[bytes, str]) -> None:
    """Replace ``path`` by ``data`` all at once, or leave it as it was.

    Args:
        path (str): The file to write; its folder is created.
        data (bytes | str): The content (str is written as UTF-8).

    Raises:
        OSError: The write failed (e.g. ENOSPC); ``path`` is unchanged and no
            temporary file is left.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = osp.abspath(osp.expanduser(str(path)))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=TEMP_PREFIX + osp.basename(path) + '.')
    try:
        os.fchmod(fd, plain_mode(path))
        with os.fdopen(fd, 'wb') as f:
            _write_all(f, data, path)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(folder)


def atomic_write_json(path: str, obj: Any, **kwargs) -> None:
    """:func:`atomic_write` of ``json.dumps(obj, **kwargs)``."""
    atomic_write(path, json.dumps(obj, **kwargs))


@contextlib.contextmanager
def atomic_folder(path: str,
                  keep_previous: Optional[str] = None) -> Iterator[str]:
    """Build a folder under a temporary name; on success it replaces
    ``path`` whole, on failure it is removed and ``path`` is unchanged.

    Args:
        path (str): The folder to (re)place.
        keep_previous (str, optional): Where to move the folder it replaces
            (one holding files the caller did not write); by default that
            folder is removed once the new one is in place.

    Yields:
        str: The temporary folder to fill.
    """
    path = osp.abspath(osp.expanduser(str(path)))
    parent = osp.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(
        dir=parent, prefix=TEMP_PREFIX + osp.basename(path) + '.')
    try:
        os.chmod(tmp, plain_mode(path, folder=True))
        yield tmp
        old = None
        if osp.lexists(path):
            old = keep_previous or tempfile.mkdtemp(
                dir=parent, prefix=TEMP_PREFIX + 'old.')
            if not keep_previous:
                os.rmdir(old)
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old is not None:
                os.replace(old, path)
            raise
        _fsync_dir(parent)
        if old is not None and not keep_previous:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose ``put`` / ``put_text`` are
    :func:`atomic_write` (checkpoints: a disk that fills up during a save
    leaves the earlier checkpoints and no truncated file)."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(str(filepath), obj.encode(encoding))


register_backend('mmppm_atomic_local', AtomicLocalBackend, force=True)
