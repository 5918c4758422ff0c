# Copyright (c) mmppm contributors. All rights reserved.
"""projects/toy_sd/tools/train_toy_sd.py checks its arguments and config
before stage 1 starts, and stops at a non-finite loss in one line (issue 29,
case 15)."""
import os.path as osp

import pytest

from mmppm.engine.cli import run_tool

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))


@pytest.fixture
def tiny_args(tmp_path, write_tiny_toy_sd_configs):
    """Arguments that point the tool at tiny configs in ``tmp_path``: a
    missing check costs seconds, not hours."""
    vae, ldm = write_tiny_toy_sd_configs(tmp_path)
    return [
        '--vae-config', vae, '--ldm-config', ldm, '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(tmp_path / 'sd')
    ]


@pytest.mark.parametrize('flag, value', [('--unet-iters', '0'),
                                         ('--vae-iters', '-3'),
                                         ('--unet-stop-at', '-1')])
def test_iteration_counts_must_be_positive(load_tool, tmp_path, tiny_args,
                                           capsys, flag, value):
    tool = load_tool('projects/toy_sd/tools/train_toy_sd.py')
    args = tiny_args + ['--vae-iters', '1', '--unet-iters', '1']
    with pytest.raises(SystemExit) as exc:
        tool.main(args + [flag, value])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(
        f"error: argument {flag}: '{value}' is not allowed: give an integer "
        '>= 1')
    assert not osp.exists(tmp_path / 'work') and not osp.exists(
        tmp_path / 'sd')


@pytest.mark.parametrize(
    'option, message',
    [
        # a top-level typo (was: silently ignored)
        ('optim_wraper.optimizer.lr=0.1',
         "--cfg-options optim_wraper.optimizer.lr: the config has no key "
         "'optim_wraper'; did you mean 'optim_wrapper'?"),
        # a model-argument typo (was: a TypeError once the model was built)
        ('model.ground_bce_weigth=0',
         "--cfg-options model.ground_bce_weigth: model has no key "
         "'ground_bce_weigth'; did you mean 'ground_bce_weight'?"),
        ('model.grounding_weight=0',
         "model (ToyLDMTrainer) has no argument 'grounding_weight'"),
        # a value out of range
        ('optim_wrapper.optimizer.lr=-1',
         'optim_wrapper.optimizer.lr=-1 is not allowed: it must be a finite '
         'number > 0; fix it in the config or with --cfg-options '
         'optim_wrapper.optimizer.lr=0.0005'),
    ])
def test_cfg_options_are_checked_before_stage_1(load_tool, tmp_path, tiny_args,
                                                capsys, option, message):
    tool = load_tool('projects/toy_sd/tools/train_toy_sd.py')
    args = tiny_args + [
        '--vae-iters', '1', '--unet-iters', '1', '--cfg-options', option
    ]
    with pytest.raises(SystemExit) as exc:
        run_tool(tool.main, args)
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith(f'error: {message}')
    assert err[1:] == ['(MMPPM_DEBUG=1 shows the traceback)']
    # stage 1 never started
    assert not osp.exists(tmp_path / 'work' / 'vae')


def test_a_non_finite_loss_is_one_line_and_keeps_the_last_checkpoint(
        tmp_path, tiny_args):
    """As a user runs it (was: a FloatingPointError traceback): a VAE
    stage whose lr makes the loss NaN at iteration 2 ends in one line naming
    the iteration and the knob; iteration 1's checkpoint is kept."""
    import os
    import subprocess
    import sys
    args = tiny_args
    vae = tmp_path / 'vae.py'
    vae.write_text(vae.read_text().replace('checkpoint=dict(interval=2)',
                                           'checkpoint=dict(interval=1)') +
                   'optim_wrapper = dict(optimizer=dict(lr=1e30))\n')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'projects/toy_sd/tools/train_toy_sd.py'), *args,
        '--stage', 'vae', '--vae-iters', '4'
    ],
                          capture_output=True,
                          text=True,
                          timeout=600,
                          cwd=str(tmp_path),
                          env=dict(
                              os.environ, HF_HUB_OFFLINE='1', PYTHONPATH=REPO))
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == '(MMPPM_DEBUG=1 shows the traceback)'
    assert lines[-2].startswith(
        'error: non-finite training loss at iteration 2 (loss=nan, ')
    assert lines[-2].endswith(
        'stopped before saving a checkpoint. Lower the learning rate '
        '(optim_wrapper.optimizer.lr) or check the data; resume from the '
        'last good checkpoint with --resume.')
    work = tmp_path / 'work' / 'vae'
    assert osp.isfile(work / 'iter_1.pth')
    assert not osp.exists(work / 'iter_2.pth')
