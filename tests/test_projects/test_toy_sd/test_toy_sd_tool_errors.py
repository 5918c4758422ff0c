# Copyright (c) mmppm contributors. All rights reserved.
"""The toy SD's analysis tools under the one-line contract (issue 29, case
17; tests/test_tools/test_analysis_tool_errors.py has the others)."""
import json
import os.path as osp
import shutil

import pytest


# ---------------------------------------------------------- toy_sd_figures
@pytest.fixture
def figures(load_tool):
    return load_tool('projects/toy_sd/tools/toy_sd_figures.py')


def test_figures_missing_folder(figures, tmp_path, capsys, one_line_error):
    missing = str(tmp_path / 'nope')
    line = one_line_error(
        figures.main,
        [missing, '--out-dir', str(tmp_path / 'out')])
    assert line.startswith(
        f'error: Stable Diffusion folder not found: {missing!r}. Download '
        'the weights')
    assert not osp.exists(tmp_path / 'out')


def test_figures_sdxl_folder(figures, random_sd_dir, tmp_path, capsys,
                             one_line_error):
    sdxl = str(tmp_path / 'sdxl')
    shutil.copytree(random_sd_dir, sdxl)
    path = osp.join(sdxl, 'unet', 'config.json')
    with open(path) as f:
        cfg = json.load(f)
    with open(path, 'w') as f:
        json.dump(dict(cfg, addition_embed_type='text_time'), f)
    line = one_line_error(
        figures.main,
        [sdxl, '--out-dir', str(tmp_path / 'out')])
    assert line == (
        f'error: {sdxl} holds an SDXL model; these figures are drawn with '
        'StableDiffusionPipeline (SD 1.x / 2.x, one text encoder): pass the '
        'toy SD folder (data/toy_sd) or another SD 1.x / 2.x folder')


def test_figures_out_dir_is_a_file(figures, random_sd_dir, tmp_path, capsys,
                                   one_line_error):
    a_file = tmp_path / 'figures'
    a_file.write_text('mine')
    line = one_line_error(
        figures.main,
        [random_sd_dir, '--out-dir', str(a_file)])
    assert line == (f'error: --out-dir {a_file} is a file, not a folder: '
                    'choose another path')
    assert a_file.read_text() == 'mine'


# ------------------------------------------------------ toy_sd_experiments
def test_experiments_zero_episodes_starts_nothing(load_tool, capsys,
                                                  monkeypatch):
    """Was: ``--episodes 0`` ran the full-size experiments."""
    from mmppm_analysis import toy_runs

    def started(*args, **kwargs):
        raise AssertionError('runs started')

    monkeypatch.setattr(toy_runs, 'run_rows', started)
    tool = load_tool('projects/toy_sd/tools/toy_sd_experiments.py')
    with pytest.raises(SystemExit) as exc:  # argparse's one error line
        tool.main(['--episodes', '0'])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        "error: argument --episodes: '0' is not allowed: give an integer "
        '>= 1')
