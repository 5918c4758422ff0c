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
