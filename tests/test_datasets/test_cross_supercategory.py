# Copyright (c) mmppm contributors. All rights reserved.
import json
import runpy
import sys
from pathlib import Path

import pytest

from mmppm.datasets import (MP100_SUPERCATEGORY_TABLE,
                            build_cross_supercategory, load_coco_json,
                            load_supercategory_table)
from mmppm.datasets.cross_supercategory import SUPERCATEGORIES
from mmppm.testing.mp100_fixtures import make_coco, shared_ann_dir, write_json

TOOL = Path(__file__).resolve().parents[2] / (
    'tools/dataset_converters/build_cross_supercategory.py')


def test_table():
    assert len(MP100_SUPERCATEGORY_TABLE) == 99  # 'face' names 2 categories
    assert set(MP100_SUPERCATEGORY_TABLE.values()) == set(SUPERCATEGORIES)
    files = sorted(shared_ann_dir().glob('mp100_split*.json'))
    if not files:
        pytest.skip(f'no MP-100 annotation files in {shared_ann_dir()}')
    for f in files:
        for cat in load_coco_json(str(f))['categories']:
            assert cat['name'] in MP100_SUPERCATEGORY_TABLE, (f, cat['name'])


def _split_files(tmp_path):
    """Two 'split' files sharing a category, with duplicated ids."""
    base = make_coco(num_per_cat=(2, 2, 2, 2), ks=(3, 4, 5, 6))
    names = ['person', 'car', 'bed', 'fly']
    for cat, name in zip(base['categories'], names):
        cat['name'] = name
    a = dict(
        base,
        categories=base['categories'][:3],
        annotations=[x for x in base['annotations'] if x['category_id'] < 13])
    b = dict(
        base,
        categories=base['categories'][1:],
        annotations=[x for x in base['annotations'] if x['category_id'] > 10])
    return [
        write_json(tmp_path / 'a.json', a),
        write_json(tmp_path / 'b.json', b)
    ]


def test_build(tmp_path):
    files = _split_files(tmp_path)
    out = build_cross_supercategory(files, held_out='vehicle', val='insect')
    names = {r: [c['name'] for c in d['categories']] for r, d in out.items()}
    assert names == dict(train=['person', 'bed'], val=['fly'], test=['car'])
    assert len(out['test']['annotations']) == 2  # deduplicated
    assert {i['id'] for i in out['test']['images']} == {100, 101}
    with pytest.raises(ValueError, match='both'):
        build_cross_supercategory(files, held_out='vehicle', val='vehicle')
    with pytest.raises(ValueError, match=r"\['bed', 'car'\]"):
        build_cross_supercategory(
            files,
            held_out='vehicle',
            table=dict(person='human_body', fly='insect'))


def test_tool(tmp_path, monkeypatch):
    files = _split_files(tmp_path)
    table = write_json(
        tmp_path / 't.json',
        dict(person='human_body', car='vehicle', bed='furniture', fly='bug'))
    assert load_supercategory_table(table)['fly'] == 'bug'
    monkeypatch.setattr(sys, 'argv', [
        str(TOOL), '--ann-files', *files, '--held-out', 'furniture', '--val',
        'bug', '--table', table, '--out-dir',
        str(tmp_path / 'out')
    ])
    runpy.run_path(str(TOOL), run_name='__main__')
    test = json.loads(
        (tmp_path / 'out' / 'mp100_cross_furniture_test.json').read_text())
    assert [c['name'] for c in test['categories']] == ['bed']
    with pytest.raises(FileNotFoundError, match='nope.json'):
        load_supercategory_table(str(tmp_path / 'nope.json'))
