# Copyright (c) mmppm contributors. All rights reserved.
from mmppm.analysis.toy_runs import Row, format_table, pick, row_tag


def test_pick_reads_a_metric_by_its_last_name():
    metrics = {'toy/PCK@0.20': 0.5, 'PCK@0.20/toy_cat10': 0.1, 'mPCK': 0.25}
    assert pick(metrics, 'PCK@0.20') == 0.5
    assert pick(metrics, 'mPCK') == 0.25
    assert pick(metrics, 'fit_PCK@0.20') is None


def test_table_in_percent_with_dashes_for_missing_metrics():
    results = [dict(name='PPM', seconds=12.3,
                    metrics={'PCK@0.20': 0.875, 'fit_PCK@0.20': 0.5}),
               dict(name='support copy', seconds=1, metrics={'PCK@0.20': 1})]
    text = format_table(results, keys=('PCK@0.20', 'fit_PCK@0.20'))
    lines = text.splitlines()
    assert lines[1].split() == ['PPM', '87.50', '50.00', '12', 's']
    assert lines[2].split()[-4:] == ['100.00', '-', '1', 's']
    md = format_table(results, keys=('PCK@0.20', ), markdown=True)
    assert md.splitlines()[0] == '| method | PCK@0.20 | time |'
    assert md.splitlines()[2] == '| PPM | 87.50 | 12 s |'


def test_row_tags_differ_by_overrides_and_are_safe_folder_names():
    a = row_tag(Row('a', 'configs/ppm/x.py'))
    b = row_tag(Row('b', 'configs/ppm/x.py', None,
                    ('model.backbone.timestep=50', )))
    c = row_tag(Row('c', 'configs/ppm/x.py', None,
                    ('model.backbone.layers=[a.b,c.d]', )))
    assert a == 'x' and b == 'x_50' and len({a, b, c}) == 3
    assert '/' not in c and '[' not in c
