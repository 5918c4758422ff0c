# Copyright (c) mmppm contributors. All rights reserved.
import json

import pytest
from mmppm_analysis.toy_runs import Row, format_table, pick, row_tag, run_rows


def test_pick_reads_a_metric_by_its_last_name():
    metrics = {'toy/PCK@0.20': 0.5, 'PCK@0.20/toy_cat10': 0.1, 'mPCK': 0.25}
    assert pick(metrics, 'PCK@0.20') == 0.5
    assert pick(metrics, 'mPCK') == 0.25
    assert pick(metrics, 'fit_PCK@0.20') is None


def test_table_in_percent_with_dashes_for_missing_metrics():
    results = [
        dict(
            name='PPM',
            seconds=12.3,
            metrics={
                'PCK@0.20': 0.875,
                'fit_PCK@0.20': 0.5
            }),
        dict(name='support copy', seconds=1, metrics={'PCK@0.20': 1})
    ]
    text = format_table(results, keys=('PCK@0.20', 'fit_PCK@0.20'))
    lines = text.splitlines()
    assert lines[1].split() == ['PPM', '87.50', '50.00', '12', 's']
    assert lines[2].split()[-4:] == ['100.00', '-', '1', 's']
    md = format_table(results, keys=('PCK@0.20', ), markdown=True)
    assert md.splitlines()[0] == '| method | PCK@0.20 | time |'
    assert md.splitlines()[2] == '| PPM | 87.50 | 12 s |'


def test_row_tags_differ_by_overrides_and_are_safe_folder_names():
    a = row_tag(Row('a', 'configs/ppm/x.py'))
    b = row_tag(
        Row('b', 'configs/ppm/x.py', None, ('model.backbone.timestep=50', )))
    c = row_tag(
        Row('c', 'configs/ppm/x.py', None,
            ('model.backbone.layers=[a.b,c.d]', )))
    assert a == 'x' and b == 'x_50' and len({a, b, c}) == 3
    assert '/' not in c and '[' not in c


# ------------------------------------------------ quiet rows, logs on disk
def _fake_test_main(pck, fail=False):
    """A stand-in for ``tools/test.py``'s entry that talks as much as a real
    run: 1000 lines through print, a logger made during the run (as each
    mmengine Runner makes one), Python's stderr and C-level writes to file
    descriptors 1 and 2; then writes its metrics to ``--out`` or fails."""
    import logging
    import os
    import sys

    def main(argv):
        for i in range(1000):
            print(f'chatter line {i}')
        logger = logging.getLogger(f'fake_runner_{pck}')
        logger.addHandler(logging.StreamHandler(sys.stdout))
        logger.warning('environment banner')
        os.write(1, b'C-level stdout\n')
        os.write(2, b'C-level stderr\n')
        print('a warning on stderr', file=sys.stderr)
        if fail:
            from mmppm.utils.errors import UserError
            raise UserError('the toy SD is missing')
        out = argv[argv.index('--out') + 1]
        with open(out, 'w') as f:
            json.dump(
                {'metrics': {
                    'toy/PCK@0.20': pck,
                    'toy/fit_PCK@0.20': 0.5
                }}, f)

    return main


def _run_fakes(monkeypatch, tmp_path, pcks, fail_at=None):
    from mmppm.engine import testing
    calls = iter(range(len(pcks)))

    def main(argv):
        i = next(calls)
        return _fake_test_main(pcks[i], fail=i == fail_at)(argv)

    monkeypatch.setattr(testing, 'main', main)
    rows = [Row(f'row {i}', f'configs/fake_{i}.py') for i in range(len(pcks))]
    return run_rows(rows, str(tmp_path))


def test_rows_print_one_progress_line_each_and_log_the_rest(
        monkeypatch, tmp_path, capfd):
    results = _run_fakes(monkeypatch, tmp_path, [0.875, 0.25])
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2 and err == ''
    assert lines[0].startswith('[1/2] row 0 ... 87.50 PCK@0.2, fit 50.00 (')
    assert lines[1].startswith('[2/2] row 1 ... 25.00 PCK@0.2, fit 50.00 (')
    assert [r['metrics']['toy/PCK@0.20'] for r in results] == [0.875, 0.25]
    log = (tmp_path / 'fake_0' / 'console.log').read_text()
    for text in ('chatter line 0', 'chatter line 999', 'environment banner',
                 'C-level stdout', 'C-level stderr', 'a warning on stderr'):
        assert text in log
    assert 'chatter line' in (tmp_path / 'fake_1' / 'console.log').read_text()
    # the logger made during a row still works after it (its stream is
    # handed back, not a closed file)
    import logging
    logging.getLogger('fake_runner_0.875').warning('after the rows')
    assert capfd.readouterr().out == 'after the rows\n'


def test_a_failing_row_prints_its_log_and_stops_with_exit_status_1(
        monkeypatch, tmp_path, capfd):
    from mmppm.engine.cli import run_tool
    with pytest.raises(SystemExit) as exit_:
        run_tool(lambda argv: _run_fakes(
            monkeypatch, tmp_path, [0.875, 0.25, 0.5], fail_at=1))
    assert exit_.value.code == 1
    out, err = capfd.readouterr()
    log_path = str(tmp_path / 'fake_1' / 'console.log')
    assert out.startswith('[1/3] row 0 ... 87.50 PCK@0.2')
    assert f'[2/3] row 1 ... failed (0 s); its log: {log_path}' in out
    assert 'UserError: the toy SD is missing' in out  # the log's last lines
    assert 'chatter line 999' not in out and '[3/3]' not in out
    assert err.startswith(
        f'error: row 1 failed: mmppm.utils.errors.UserError: the toy SD is '
        f'missing (full log: {log_path})')
    assert 'chatter line 999' in open(log_path).read()
