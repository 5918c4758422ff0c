# Copyright (c) mmppm contributors. All rights reserved.
import json
import os

import pytest

from mmppm.utils.atomic_io import atomic_write, atomic_write_json


def test_writes_the_whole_file(tmp_path):
    path = tmp_path / 'new' / 'a.json'
    atomic_write_json(str(path), dict(x=[1, 2]))
    assert json.loads(path.read_text()) == dict(x=[1, 2])
    assert os.listdir(path.parent) == ['a.json']


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'a.txt'
    atomic_write(str(path), 'old')

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError, match='No space left'):
        atomic_write(str(path), 'new')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['a.txt']


def test_files_and_folders_get_the_mode_a_plain_write_gives(tmp_path):
    """tempfile makes 0600 / 0700; a checkpoint or data file written
    atomically is 0644 / 0755 under umask 022, and a file replaced keeps
    its own mode."""
    import stat

    from mmppm.utils.atomic_io import atomic_folder
    old = os.umask(0o022)
    try:
        new = tmp_path / 'new.json'
        atomic_write_json(str(new), {'a': 1})
        assert stat.S_IMODE(new.stat().st_mode) == 0o644
        kept = tmp_path / 'kept.txt'
        kept.write_text('x')
        kept.chmod(0o640)
        atomic_write(str(kept), 'y')
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
        with atomic_folder(str(tmp_path / 'folder')) as tmp:
            open(os.path.join(tmp, 'f'), 'w').close()
        assert stat.S_IMODE((tmp_path / 'folder').stat().st_mode) == 0o755
        os.umask(0o077)
        private = tmp_path / 'private.json'
        atomic_write_json(str(private), {})
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    finally:
        os.umask(old)
