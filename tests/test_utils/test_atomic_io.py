# Copyright (c) mmppm contributors. All rights reserved.
import json
import os

import pytest

from mmppm.utils.atomic_io import dump_json_atomic, write_text_atomic


def test_writes_the_whole_file(tmp_path):
    path = tmp_path / 'new' / 'a.json'
    dump_json_atomic(dict(x=[1, 2]), str(path))
    assert json.loads(path.read_text()) == dict(x=[1, 2])
    assert os.listdir(path.parent) == ['a.json']


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'a.txt'
    write_text_atomic('old', str(path))

    def full_disk(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError, match='No space left'):
        write_text_atomic('new', str(path))
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['a.txt']
