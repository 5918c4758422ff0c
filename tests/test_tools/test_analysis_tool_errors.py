# Copyright (c) mmppm contributors. All rights reserved.
"""The analysis tools under the one-line contract (issue 29, case 17): a
user's mistake ends a tool with one ``error: ...`` line naming the thing
and the fix (``run_tool``), an argument out of range with argparse's one
error line, before any work."""
import glob
import json
import os
import os.path as osp

import pytest

from mmppm.engine.cli import run_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HINT = '(MMPPM_DEBUG=1 shows the traceback)'


def argparse_error(capsys, main, argv):
    """The last stderr line of a tool that argparse stops (exit 2)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


# ------------------------------------------------------- benchmark_episode
@pytest.mark.parametrize('flag, value, allowed', [
    ('--steps', '-1', 'an integer >= 0'),
    ('--keypoints', '0', 'an integer >= 1'),
    ('--lr', 'nan', 'a finite number > 0'),
])
def test_benchmark_argument_ranges(load_tool, capsys, flag, value, allowed):
    bench = load_tool('analysis/benchmark_episode.py')
    assert argparse_error(capsys, bench.main, [flag, value]).endswith(
        f"error: argument {flag}: '{value}' is not allowed: give {allowed}")


# ---------------------------------------------------------- fit_diagnostics
def test_fit_diagnostics_refuses_a_non_ppm_config(load_tool, capsys,
                                                  one_line_error):
    tool = load_tool('analysis/fit_diagnostics.py')
    config = osp.join(REPO, 'configs/baselines/support-copy_1shot_toy.py')
    line = one_line_error(tool.main, [config])
    assert line == (
        'error: the fit diagnostics need a PPM config '
        "(model.type='PPMEstimator'),"
        " this one has model.type='SupportCopyBaseline', which fits no "
        'prompts: choose a config of configs/ppm/ or configs/cpt/')


def test_fit_diagnostics_checks_cfg_options(load_tool, capsys, one_line_error):
    tool = load_tool('analysis/fit_diagnostics.py')
    config = osp.join(REPO, 'configs/ppm/ppm_random-sd_1shot_toy.py')
    line = one_line_error(
        tool.main,
        [config, '--cfg-options', 'test_dataloader.dataset.mode=train'])
    assert line == (
        "error: test_dataloader.dataset.mode='train' is not allowed: it must "
        "be 'val' or 'test' (episodes) for testing; fix it in the config or "
        'with --cfg-options test_dataloader.dataset.mode=test')


# ------------------------------------------------------ plot_training_curve
ROWS = [
    dict(loss=1.4, step=10),
    dict(loss=1.3, step=20),
    dict(loss=1.2, step=30)
]


def test_plot_a_killed_runs_scalars(load_tool, tmp_path, capsys):
    """A run killed while logging leaves a cut last line: the rows before
    it are plotted (was: a JSONDecodeError traceback)."""
    tool = load_tool('analysis/plot_training_curve.py')
    path = tmp_path / 'scalars.json'
    path.write_text('\n'.join(map(json.dumps, ROWS)) + '\n{"loss": 1.1, "st')
    out = tmp_path / 'curve.png'
    run_tool(tool.main, [str(path), '--out', str(out), '--loss-keys', 'loss'])
    assert capsys.readouterr().out.strip() == (
        f'{out}: loss (3 points), PCK (0 points)')
    assert osp.isfile(out)


def test_plot_a_damaged_scalars_file_is_one_line(load_tool, tmp_path, capsys,
                                                 one_line_error):
    tool = load_tool('analysis/plot_training_curve.py')
    path = tmp_path / 'scalars.json'
    path.write_text('{"loss": 1}\nnot json\n{"loss": 2}\n')
    line = one_line_error(
        tool.main,
        [str(path), '--out', str(tmp_path / 'c.png')])
    assert line == (
        f"error: {path}: line 2 is not a JSON object ('not json'); this is "
        'not an mmengine scalars.json, or it was edited: pass the work dir '
        'of a run or its vis_data/scalars.json')


# ------------------------------------------------------------ metrics_table
def test_metrics_table_out_dir_is_a_file(load_tool, tmp_path, capsys,
                                         one_line_error):
    tool = load_tool('analysis/metrics_table.py')
    metrics = tmp_path / 'metrics.json'
    metrics.write_text(
        json.dumps({
            'PCK': 0.5,
            'PCK@0.20': 0.5,
            'PCK@0.20/bed': 0.5
        }))
    a_file = tmp_path / 'tables'
    a_file.write_text('mine')
    line = one_line_error(tool.main, [str(metrics), '--out-dir', str(a_file)])
    assert line == (f'error: --out-dir {a_file} is a file, not a folder: '
                    'choose another path')


# ------------------------------------------------------- project_split_cost
@pytest.mark.parametrize('flag, value, allowed', [
    ('--sustained-tflops', '0', 'a finite number > 0'),
    ('--episodes', '-4000', 'an integer >= 1'),
    ('--steps', '-100', 'an integer >= 0'),
    ('--memory-budget-gb', '-1', 'a finite number > 0'),
])
def test_projection_argument_ranges(load_tool, capsys, flag, value, allowed):
    """Were: a ZeroDivisionError traceback, negative GPU-hours."""
    proj = load_tool('analysis/project_split_cost.py')
    assert argparse_error(capsys, proj.main, [
        '--arch', 'tiny', flag, value
    ]).endswith(
        f"error: argument {flag}: '{value}' is not allowed: give {allowed}")


def test_projection_missing_memory_report(load_tool, tmp_path, capsys,
                                          one_line_error):
    proj = load_tool('analysis/project_split_cost.py')
    missing = str(tmp_path / 'bench.json')
    line = one_line_error(proj.main, ['--no-flops', '--memory-json', missing])
    assert line == f'error: --memory-json report not found: {missing}'


# ----------------------------------------------------- every tool's __main__
def _main_calls(path):
    """The calls of a script's ``if __name__ == '__main__':`` block."""
    import ast
    tree = ast.parse(open(path, encoding='utf-8').read())
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            return [
                ast.unparse(n) for n in ast.walk(node)
                if isinstance(n, ast.Call)
            ]
    return None


SCRIPTS = sorted(
    osp.relpath(osp.join(root, f), REPO) for top in ['tools', 'demo'] +
    glob.glob(osp.join(REPO, 'projects', '*', 'tools'))
    for root, _, files in os.walk(osp.join(REPO, top)) for f in files
    if f.endswith('.py') and '__init__.py' not in files)  # packages: no CLI


@pytest.mark.parametrize('script', SCRIPTS)
def test_every_tool_runs_under_run_tool(script):
    """The one-line contract holds for a tool only if its entry point goes
    through ``run_tool`` (was: plain ``main()`` in 12 scripts, whose user
    errors were tracebacks)."""
    calls = _main_calls(osp.join(REPO, script))
    assert calls is not None, f'{script} has no __main__ block'
    assert 'run_tool(main)' in calls, f'{script}: {calls}'


def test_a_missing_pretrained_is_one_line_from_the_command_line(tmp_path):
    """benchmark_episode.py --pretrained /missing, as a user runs it."""
    import subprocess
    import sys
    missing = str(tmp_path / 'missing')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools/analysis/benchmark_episode.py'), '--pretrained',
        missing
    ],
                          capture_output=True,
                          text=True,
                          timeout=300,
                          cwd=str(tmp_path),
                          env=dict(
                              os.environ, HF_HUB_OFFLINE='1', PYTHONPATH=REPO))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == HINT
    assert lines[-2].startswith(
        f'error: Stable Diffusion folder not found: {missing!r}. ')
    assert 'Traceback' not in proc.stderr
