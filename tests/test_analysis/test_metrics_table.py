# Copyright (c) mmppm contributors. All rights reserved.
"""The per-category PCK tables (mmppm_analysis.metrics_table) and their
tool, tools/analysis/metrics_table.py, on fake metrics files."""
import csv
import json
import os
import os.path as osp

import cv2
import pytest
from mmppm_analysis.metrics_table import (find_metrics, per_category_pck,
                                          table_rows)

METRICS = {
    'PCK@0.05': 0.1,
    'PCK@0.10': 0.3,
    'PCK@0.15': 0.5,
    'PCK@0.20': 0.6,
    'PCK@0.25': 0.7,
    'mPCK': 0.44,
    'PCK': 0.6,
    'PCK@0.20/fox_body': 0.75,
    'PCK@0.20/bed': 0.25,
    'PCK@0.20/Tern': 0.5,
    'time': 1.5
}


def test_per_category_rows():
    cats, overall = per_category_pck(METRICS)
    assert list(cats) == ['fox_body', 'bed', 'Tern']
    assert overall['PCK'] == 0.6 and overall['mPCK'] == 0.44
    header, rows = table_rows(cats, overall)
    assert header == ['category', 'PCK@0.20']
    assert rows[0] == ['fox_body', '75.00']
    assert rows[-2] == ['mean over categories', '50.00']
    assert rows[-1] == ['all queries', '60.00']


@pytest.fixture
def table_tool(load_tool):
    return load_tool('analysis/metrics_table.py')


def test_tool_on_work_dir(tmp_path, table_tool):
    # mmengine's layout: {work_dir}/{timestamp}/{timestamp}.json
    run = tmp_path / 'work' / '20260101_000000'
    run.mkdir(parents=True)
    (run / '20260101_000000.json').write_text(json.dumps(METRICS))
    (run / 'other.json').write_text(json.dumps({'PCK': 0.0}))
    written = table_tool.main(
        [str(tmp_path / 'work'), '--out-dir',
         str(tmp_path / 'out')])
    assert [osp.basename(w) for w in written] == [
        'pck_per_category.md', 'pck_per_category.csv', 'pck_per_category.png'
    ]
    md = (tmp_path / 'out' / 'pck_per_category.md').read_text()
    assert '| bed | 25.00 |' in md and 'mPCK 44.00' in md
    with open(tmp_path / 'out' / 'pck_per_category.csv') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['category', 'PCK@0.20'] and rows[2] == ['bed', '25.00']
    png = cv2.imread(str(tmp_path / 'out' / 'pck_per_category.png'))
    assert png is not None and png.shape[0] > 100


def test_json_lines_take_last_pck_record(tmp_path):
    path = tmp_path / 'scalars.json'
    path.write_text(
        json.dumps({
            'PCK': 0.1,
            'PCK@0.20/a': 0.1
        }) + '\n' + json.dumps({
            'PCK': 0.2,
            'PCK@0.20/a': 0.3
        }) + '\n' + json.dumps({'loss': 1.0}) + '\n')
    metrics, source = find_metrics(str(path))
    assert metrics['PCK'] == 0.2 and source == str(path)


@pytest.mark.parametrize('content', [None, '{"loss": 1}'])
def test_errors_are_one_line(tmp_path, content, table_tool, capsys):
    from mmppm.engine.cli import run_tool
    path = tmp_path / 'm.json'
    if content is not None:
        path.write_text(content)
    with pytest.raises(SystemExit) as e:
        run_tool(table_tool.main, [str(path)])
    assert e.value.code == 1
    msg, hint = capsys.readouterr().err.strip().splitlines()
    assert msg.startswith('error: ') and hint == (
        '(MMPPM_DEBUG=1 shows the traceback)')
    assert os.path.basename(str(path)) in msg
