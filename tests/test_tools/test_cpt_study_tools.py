# Copyright (c) mmppm contributors. All rights reserved.
"""The CPT study's small tools: a resumed run's sessions read as one curve,
the study figure, and publishing a checkpoint (weights and meta only, never
over a file)."""
import json

import pytest
import torch

from mmppm.visualization.training_curve import load_run, series


def write_session(work_dir, stamp, rows):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, rows)) + '\n')


def val_row(step, pck, fit):
    return {'PCK': pck, 'fit_PCK@0.20': fit, 'step': step}


@pytest.fixture
def resumed_run(tmp_path):
    """Two sessions: iterations 0-20, then a resume that logs 20 again (a
    different value: the later session wins) and 30."""
    write_session(tmp_path, '20260101_000000', [
        dict(loss=2., step=10), val_row(10, .5, .6),
        dict(loss=1.5, step=20), val_row(20, .55, .7)])
    write_session(tmp_path, '20260101_010000', [
        dict(loss=1.4, step=20), val_row(20, .57, .7),
        dict(loss=1.2, step=30), val_row(30, .6, .8)])
    return tmp_path


def test_a_resumed_runs_sessions_are_one_curve(resumed_run):
    train, val = load_run(str(resumed_run))
    assert series(train, 'loss') == ([10, 20, 30], [2., 1.4, 1.2])
    assert series(val, 'PCK') == ([10, 20, 30], [.5, .57, .6])


def test_study_figure(load_tool, resumed_run, tmp_path, capsys,
                      one_line_error):
    tool = load_tool('analysis/cpt_study_figure.py')
    out = tmp_path / 'fig' / 'study.png'
    tool.main(['--run', f'a={resumed_run}', '--run', f'b={resumed_run}',
               '--reference', 'PPM=55', '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert capsys.readouterr().out.strip() == (
        f'{out}: a (3 validations), b (3 validations)')
    line = one_line_error(tool.main, ['--run', str(resumed_run)])
    assert line == f"error: --run {str(resumed_run)!r} must be LABEL=VALUE"
    line = one_line_error(tool.main, ['--run', f'a={resumed_run}',
                                      '--reference', 'PPM=high'])
    assert line == "error: --reference 'PPM=high': 'high' is not a number"


def test_publish_keeps_weights_and_meta_only(load_tool, tmp_path, capsys,
                                             one_line_error):
    tool = load_tool('misc/publish_checkpoint.py')
    weights = {'prompt_encoder.shared_prompt': torch.arange(4.)}
    src = tmp_path / 'iter_5.pth'
    torch.save(dict(meta=dict(iter=5), state_dict=weights,
                    optimizer=dict(state={}, param_groups=[]),
                    message_hub=dict(log_scalars={})), src)
    out = tmp_path / 'published.pth'
    tool.main([str(src), str(out)])
    published = torch.load(out, weights_only=True)
    assert set(published) == {'meta', 'state_dict'}
    assert published['meta'] == {'iter': 5}
    assert torch.equal(published['state_dict']['prompt_encoder.shared_prompt'],
                       torch.arange(4.))
    assert capsys.readouterr().out.strip() == (
        f'{out}: prompt_encoder.shared_prompt (iteration 5)')
    # never over a file, never a non-checkpoint
    before = out.read_bytes()
    line = one_line_error(tool.main, [str(src), str(out)])
    assert line.startswith(f'error: {out} exists: remove it first')
    assert out.read_bytes() == before
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint')
    line = one_line_error(tool.main, [str(junk), str(tmp_path / 'x.pth')])
    assert line.startswith(f'error: {junk} is not a loadable checkpoint')
    assert not (tmp_path / 'x.pth').exists()
