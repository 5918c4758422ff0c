# Copyright (c) mmppm contributors. All rights reserved.
"""tools/train.py, tools/test.py and the dist scripts, end to end on CPU."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmppm.engine.cli.checks import find_resume_checkpoint
from mmppm.testing.tool_runs import (REPO, free_port, load_script, rank_params,
                                     tool_env, torchrun)

TRAIN_CFG = """
custom_imports = dict(imports=['mmppm.testing.fakes'],
                      allow_failed_imports=False)
default_scope = 'mmengine'
log_level = 'WARNING'
model = dict(type='FakeRegressor', init_w=0.5)
train_dataloader = dict(
    dataset=dict(type='FakeRegressionDataset', n=16),
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_size=2, num_workers=0, collate_fn=dict(type='default_collate'))
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.1))
train_cfg = dict(by_epoch=False, max_iters=4)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False))
custom_hooks = [dict(type='DumpParamsHook')]
"""

TEST_CFG = """
custom_imports = dict(imports=['mmppm.testing.fakes'],
                      allow_failed_imports=False)
default_scope = 'mmpose'
log_level = 'WARNING'
model = dict(type='FakeEpisodeModel')
test_dataloader = dict(
    dataset=dict(type='FakeEpisodeDataset', n=7),
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_size=1, num_workers=0, collate_fn=dict(type='pseudo_collate'))
test_cfg = dict(type='ResumableTestLoop')
test_evaluator = dict(type='FakeEpisodeMetric')
"""


def write(path, text):
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------
# One-line errors


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_missing_config_is_a_one_line_error(tool, tmp_path):
    with pytest.raises(SystemExit) as exc:
        load_script(f'tools/{tool}.py').main([str(tmp_path / 'nope.py')])
    assert str(
        exc.value) == (f'error: config file not found: {tmp_path / "nope.py"}')


def test_missing_checkpoint_is_a_one_line_error(tmp_path):
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    with pytest.raises(SystemExit) as exc:
        load_script('tools/test.py').main([cfg, str(tmp_path / 'missing.pth')])
    assert str(exc.value) == (
        f'error: checkpoint not found: {tmp_path / "missing.pth"}')
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    with pytest.raises(SystemExit) as exc:
        load_script('tools/train.py').main([cfg, '--resume', 'missing.pth'])
    assert str(exc.value) == 'error: checkpoint not found: missing.pth'


def test_cli_error_has_no_traceback(tmp_path):
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'test.py'),
        str(tmp_path / 'nope.py')
    ],
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f'error: config file not found: {tmp_path / "nope.py"}')


# --------------------------------------------------------------------------
# Argument handling


def test_args_merge_into_config(tmp_path):
    train = load_script('tools/train.py')
    cfg_path = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    from mmppm.engine.cli import load_tool_config
    args = train.parse_args(
        [cfg_path, '--resume', '--cfg-options', 'train_cfg.max_iters=9'])
    cfg = train.merge_args(load_tool_config(cfg_path, None, 'none'), args)
    assert cfg.resume is True and cfg.load_from is None
    assert cfg.train_cfg.max_iters == 9
    assert cfg.work_dir == osp.join('./work_dirs', 'toy_train')

    test = load_script('tools/test.py')
    for ckpt in ([], ['none'], ['']):
        args = test.parse_args([cfg_path, *ckpt, '--show-dir', 'vis'])
        assert args.checkpoint is None
        cfg = test.merge_args(
            load_tool_config(cfg_path, str(tmp_path / 'w'), 'none'), args)
        assert cfg.get('load_from') is None and cfg.show_dir == 'vis'
        assert cfg.work_dir == str(tmp_path / 'w')


def run_test_tool(cfg, work_dir, out):
    """``tools/test.py CFG --work-dir W --out OUT`` in-process -> metrics."""
    load_script('tools/test.py').main(
        [cfg, '--work-dir',
         str(work_dir), '--out',
         str(out)])
    return json.loads(out.read_text())


def test_test_tool_runs_and_writes_metrics(tmp_path):
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    metrics = run_test_tool(cfg, tmp_path / 'w', tmp_path / 'metrics.json')
    assert metrics['num_episodes'] == 7 and metrics['num_queries'] == 14


# --------------------------------------------------------------------------
# Two processes on CPU (gloo)


def test_two_process_cpu_train_save_resume(tmp_path):
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    work_dir = str(tmp_path / 'work')
    torchrun('train.py', cfg, '--work-dir', work_dir)
    first = [rank_params(work_dir, r) for r in (0, 1)]
    assert first[0]['iter'] == 4
    assert torch.equal(first[0]['params']['w'], first[1]['params']['w'])
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))

    # auto-resume from iter_4.pth and train on to 6 iterations
    torchrun('train.py', cfg, '--work-dir', work_dir, '--resume',
             '--cfg-options', 'train_cfg.max_iters=6')
    second = [rank_params(work_dir, r) for r in (0, 1)]
    assert second[0]['iter'] == second[1]['iter'] == 6
    assert torch.equal(second[0]['params']['w'], second[1]['params']['w'])
    assert not torch.equal(second[0]['params']['w'], first[0]['params']['w'])


def test_two_process_resumable_test_matches_single_process(tmp_path):
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    single = run_test_tool(cfg, tmp_path / 'w1', tmp_path / 'single.json')
    double = tmp_path / 'double.json'
    work_dir = str(tmp_path / 'w2')
    env = dict(tool_env(), PYTHON=sys.executable, PORT=free_port())
    proc = subprocess.run([
        'bash',
        osp.join(REPO, 'tools', 'dist_test.sh'), cfg, '2', '--work-dir',
        work_dir, '--out',
        str(double)
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(double.read_text()) == single
    rank_files = os.listdir(
        osp.join(work_dir, 'predictions',
                 os.listdir(osp.join(work_dir, 'predictions'))[0]))
    assert sorted(f.split('_')[-1]
                  for f in rank_files) == ['rank0.jsonl', 'rank1.jsonl']


# --------------------------------------------------------------------------
# Never overwrite a run, never load what is not a checkpoint


def run_train_tool(*argv):
    return subprocess.run(
        [sys.executable,
         osp.join(REPO, 'tools', 'train.py'), *argv],
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=300)


def test_a_used_work_dir_needs_resume(tmp_path):
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    work_dir = str(tmp_path / 'work')
    first = run_train_tool(cfg, '--work-dir', work_dir)
    assert first.returncode == 0, first.stderr
    before = open(osp.join(work_dir, 'iter_4.pth'), 'rb').read()
    again = run_train_tool(cfg, '--work-dir', work_dir)
    assert again.returncode == 1
    assert again.stderr.startswith(f'error: work dir {work_dir} holds '
                                   'checkpoints of an earlier run')
    assert 'Traceback' not in again.stderr
    assert open(osp.join(work_dir, 'iter_4.pth'), 'rb').read() == before


def test_random_bytes_are_not_a_checkpoint(tmp_path):
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    bad = tmp_path / 'random.pth'
    bad.write_bytes(os.urandom(300))
    with pytest.raises(SystemExit) as exc:
        load_script('tools/test.py').main([cfg, str(bad)])
    assert str(exc.value).startswith(f'error: not a checkpoint: {bad}')


def test_resume_skips_a_truncated_latest_checkpoint(tmp_path):
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    work_dir = tmp_path / 'work'
    assert run_train_tool(cfg, '--work-dir', str(work_dir)).returncode == 0
    latest = work_dir / 'iter_4.pth'
    latest.write_bytes(latest.read_bytes()[:100])  # killed while saving
    train = load_script('tools/train.py')
    args = train.parse_args([cfg, '--work-dir', str(work_dir), '--resume'])
    from mmppm.engine.cli import load_tool_config
    cfg_obj = train.merge_args(
        load_tool_config(cfg, str(work_dir), 'none'), args)
    assert cfg_obj.resume and cfg_obj.load_from == str(work_dir / 'iter_2.pth')


def test_run_toy_rows_name_existing_configs():
    run_toy = load_script('tools/run_toy.py')
    rows = run_toy.toy_rows(full=True, random_sd=True)
    assert [r.name for r in rows][:3] == [
        'word prompts (no fit)', 'PPM (cached maps)', 'PPM (exact maps)'
    ]
    for r in rows:
        assert osp.isfile(osp.join(REPO, r.config)), r.config


def test_a_failing_distributed_run_reports_in_two_lines(tmp_path):
    env = dict(tool_env(), PYTHON=sys.executable, PORT=free_port())
    proc = subprocess.run([
        'bash',
        osp.join(REPO, 'tools', 'dist_test.sh'),
        str(tmp_path / 'nope.py'), '2'
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert 'Traceback' not in proc.stderr
    assert 'ChildFailedError' not in proc.stderr
    errors = [line for line in lines if line.startswith('error:')]
    assert errors[0] == f'error: config file not found: {tmp_path / "nope.py"}'
    assert len(errors) == 2 and errors[1].startswith('error: process')
    assert ('processes 0, 1 failed (exit codes 1, 1)' in errors[1]
            or 'failed (exit code 1)' in errors[1])


def test_a_port_in_use_is_one_line_before_any_process(tmp_path):
    """dist_train.sh with its port taken was a 30-line DistNetworkError
    traceback; now one line naming the port and the fix."""
    import socket
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = dict(tool_env(), PYTHON=sys.executable, PORT=str(port))
        proc = subprocess.run([
            'bash',
            osp.join(REPO, 'tools', 'dist_train.sh'),
            str(tmp_path / 'any.py'), '2'
        ],
                              env=env,
                              capture_output=True,
                              text=True,
                              timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f'error: port {port} on 127.0.0.1 cannot be used (Address already in '
        f'use): set another, e.g. PORT={port + 1} bash '
        'tools/dist_train.sh ...')


def test_unwritable_work_dir_and_cache_dir_fail_before_any_episode(tmp_path):
    """A --work-dir that cannot be created (a read-only folder as a user;
    here a path under a file, which fails for root too) was an OSError
    traceback; an uncreatable cache_dir failed after the first batch."""
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    with pytest.raises(SystemExit) as exc:
        load_script('tools/test.py').main(
            [cfg, '--work-dir', str(blocker / 'w')])
    assert str(exc.value).startswith(
        f'error: work_dir (--work-dir) {blocker / "w"} cannot be written')
    from mmppm.engine.cli import writable_dir
    from mmppm.utils.errors import ToolError
    with pytest.raises(ToolError, match='is a file, not a folder'):
        writable_dir(str(blocker), 'x')
    assert writable_dir(str(tmp_path / 'new' / 'dir'), 'x')
    out = tmp_path / 'm.json'
    with pytest.raises(
            ToolError,
            match=r'the prediction cache folder '
            r'\(test_cfg.cache_dir\) .* cannot be written'):
        load_script('tools/test.py').main([
            cfg, '--work-dir',
            str(tmp_path / 'w'), '--out',
            str(out), '--cfg-options', f'test_cfg.cache_dir={blocker}/cache'
        ])
    assert not out.exists()


def test_an_unwritable_out_fails_before_any_episode(tmp_path):
    """--out a folder, or under a file, was a traceback after every
    episode had been computed; now one line before the first."""
    blocker = tmp_path / 'a_file'
    blocker.write_text('x')
    folder = tmp_path / 'a_folder'
    folder.mkdir()
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    for out, message in (
        (folder, f'error: --out {folder} is a folder, not a file: give a '
         f'file name, e.g. {folder / "metrics.json"}'),
        (blocker / 'm.json', f'error: the folder of --out {blocker} is a '
         'file, not a folder')):
        work = tmp_path / f'w_{out.name}'
        with pytest.raises(SystemExit) as exc:
            load_script('tools/test.py').main(
                [cfg, '--work-dir',
                 str(work), '--out',
                 str(out)])
        assert str(exc.value).startswith(message)
        assert not list(work.rglob('*.jsonl'))  # no episode was predicted


def test_resume_with_only_damaged_checkpoints_is_one_line(tmp_path):
    """It used to warn 'trying the previous one', then mmengine loaded the
    same truncated file through last_checkpoint: an OSError traceback."""
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    work_dir = tmp_path / 'work'
    assert run_train_tool(cfg, '--work-dir', str(work_dir)).returncode == 0
    for ckpt in work_dir.glob('*.pth'):
        ckpt.write_bytes(ckpt.read_bytes()[:100])
    proc = run_train_tool(cfg, '--work-dir', str(work_dir), '--resume')
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    errors = [
        line for line in proc.stderr.splitlines() if line.startswith('error')
    ]
    assert errors == [
        f'error: --resume: no checkpoint in {work_dir} can be '
        'loaded (all 2 are damaged, e.g. by a run killed while '
        'saving): move them away to start afresh, or pass a '
        'good one as --resume PATH'
    ]


def test_an_error_only_rank_1_hits_is_printed_once_by_rank_1(tmp_path):
    """Rank 1 alone meets a missing image: its error reaches the user once,
    rank 0 says in one line that another process failed (was: nothing from
    rank 1, a 33-line gloo traceback from rank 0); the launcher's line then
    points at the error above, which is there."""
    cfg = write(tmp_path / 'toy_test.py', TEST_CFG)
    env = dict(tool_env(), PYTHON=sys.executable, PORT=free_port())
    proc = subprocess.run(
        [
            'bash',
            osp.join(REPO, 'tools', 'dist_test.sh'),
            cfg,
            '2',
            '--work-dir',
            str(tmp_path / 'w'),
            '--cfg-options',
            # DefaultSampler without shuffle: rank 1 gets episodes 1, 3, 5
            'test_dataloader.dataset.missing_image_at=3'
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 1
    errors = [
        line for line in proc.stderr.splitlines() if line.startswith('error')
    ]
    own = [e for e in errors if 'ep003.jpg' in e]
    assert own == [
        'error (process 1): Image file not found: ep003.jpg '
        '(episode 3)'
    ], proc.stderr[-3000:]
    # both stop: rank 1 on its error, rank 0 at the broken collective
    assert errors[-1].startswith('error: process'), errors
    assert 'printed above' in errors[-1]
    assert any(e.startswith('error (process 0): another process of this '
                            'run failed') for e in errors) or \
        errors[-1].startswith('error: process 1 failed (exit code 1)'), \
        proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]


@pytest.fixture
def tiny_disk(tmp_path):
    """A 12 KiB tmpfs: a disk that fills up (root only; skipped otherwise)."""
    mount = tmp_path / 'disk'
    mount.mkdir()
    proc = subprocess.run(
        ['mount', '-t', 'tmpfs', '-o', 'size=12k', 'tmpfs',
         str(mount)],
        capture_output=True)
    if proc.returncode != 0:
        pytest.skip('cannot mount a small tmpfs here (needs root): ' +
                    proc.stderr.decode()[:80])
    yield mount
    subprocess.run(['umount', str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_saying_what_is_kept(tmp_path, tiny_disk):
    """Training checkpoints and the test cache on a disk that fills up: was
    an OSError / RuntimeError traceback."""
    cfg = write(tmp_path / 'toy_train.py', TRAIN_CFG)
    (tiny_disk / 'filler').write_bytes(b'x' * 8 * 1024)
    proc = run_train_tool(cfg, '--work-dir', str(tmp_path / 'w'),
                          '--cfg-options',
                          f'default_hooks.checkpoint.out_dir={tiny_disk}')
    assert proc.returncode == 1, proc.stderr[-2000:]
    errors = [
        line for line in proc.stderr.splitlines() if line.startswith('error')
    ]
    assert len(errors) == 1 and errors[0].startswith(
        'error: disk full while writing'), proc.stderr[-2000:]
    assert 'rerun the same command' in errors[0]
    assert 'Traceback' not in proc.stderr


# --------------------------------------------------------------------------
# Atomic checkpoints and the resume fallback (issue 29, case 7)


def _fill_disk_at(monkeypatch, name):
    """The disk fills up half-way through writing the file ``name``."""
    import errno

    from mmppm.utils import atomic_io
    real = atomic_io._write_all

    def write_all(f, data, path):
        if osp.basename(path) == name:
            f.write(data[:len(data) // 2])
            raise OSError(errno.ENOSPC, 'No space left on device', path)
        real(f, data, path)

    monkeypatch.setattr(atomic_io, '_write_all', write_all)


def _train_in_process(argv):
    from mmppm.engine.cli import run_tool
    return run_tool(load_script('tools/train.py').main, argv)


def _final_params(work_dir):
    return torch.load(osp.join(work_dir, 'params_rank0.pt'), weights_only=True)


@pytest.mark.parametrize('full_at', ['iter_2.pth', 'iter_4.pth'])
def test_a_disk_full_during_a_save_keeps_the_previous_state(
        tmp_path, monkeypatch, capsys, full_at):
    """Case 7: a disk that filled while saving the first checkpoint left a
    truncated iter_N.pth; the error promised that rerunning with --resume
    continues, but --resume refused ('all 1 are damaged ... move them
    away'). With max_keep_ckpts=1 a later failed save also lost the
    previous checkpoint (mmengine removes it first). Now a failed save
    leaves no file and the previous checkpoints as they were, and --resume
    continues to the same weights as an uninterrupted run."""
    cfg = write(
        tmp_path / 'toy_train.py', TRAIN_CFG +
        ('default_hooks = dict(checkpoint=dict(type="CheckpointHook", '
         'interval=2, by_epoch=False, max_keep_ckpts=1))\n'
         'randomness = dict(seed=0)\n'))
    work_dir = tmp_path / 'work'
    _fill_disk_at(monkeypatch, full_at)
    with pytest.raises(SystemExit):
        _train_in_process([cfg, '--work-dir', str(work_dir)])
    err = capsys.readouterr().err
    assert f'error: disk full while writing {work_dir / full_at}' in err
    assert 'rerun the same command (with --resume for training)' in err
    monkeypatch.undo()
    kept = sorted(p.name for p in work_dir.iterdir()
                  if p.suffix == '.pth' or p.name.startswith('.mmppm'))
    if full_at == 'iter_2.pth':  # nothing was saved: nothing is there
        assert kept == [] and not (work_dir / 'last_checkpoint').exists()
    else:  # the previous checkpoint, whole, and named by last_checkpoint
        assert kept == ['iter_2.pth']
        assert (work_dir / 'last_checkpoint').read_text() == str(work_dir /
                                                                 'iter_2.pth')
    _train_in_process([cfg, '--work-dir', str(work_dir), '--resume'])
    _train_in_process([cfg, '--work-dir', str(tmp_path / 'clean')])
    resumed, clean = _final_params(work_dir), _final_params(tmp_path / 'clean')
    assert resumed['iter'] == clean['iter'] == 4
    for k in clean['params']:
        assert torch.equal(resumed['params'][k], clean['params'][k]), k
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_4.pth']


def test_the_plain_checkpoint_hook_is_made_atomic():
    from mmengine.config import Config

    from mmppm.engine.hooks import use_atomic_checkpoints
    cfg = Config(
        dict(
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=3, max_keep_ckpts=2))))
    use_atomic_checkpoints(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='mmpose.AtomicCheckpointHook', interval=3, max_keep_ckpts=2)
    other = Config(dict(default_hooks=dict(checkpoint=dict(type='MyHook'))))
    use_atomic_checkpoints(other)
    assert other.default_hooks.checkpoint.type == 'MyHook'


VAL_CFG = TRAIN_CFG + """
model = dict(type='FakeRegressor', init_w=0.5, noise=0.3)
val_dataloader = dict(
    dataset=dict(type='FakeRegressionDataset', n=6),
    sampler=dict(type='DefaultSampler', shuffle=False),
    batch_size=2, num_workers=0, collate_fn=dict(type='default_collate'))
val_evaluator = dict(type='FakeRegressionMetric')
val_cfg = dict(type='ValLoop')
train_cfg = dict(by_epoch=False, max_iters=6, val_interval=2)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False,
                    save_best='mse', rule='less'))
randomness = dict(seed=0)
custom_hooks = [dict(type='DumpParamsHook'),
                dict(type='mmpose.RandomStateHook')]
"""


@pytest.mark.parametrize('damaged,save_best', [(None, None), (None, 'mse'),
                                               ('iter_4.pth', 'mse')])
def test_resume_continues_the_uninterrupted_run(tmp_path, damaged, save_best):
    """Issue 35 cases 8 and 7. Validation and a checkpoint at the same
    iteration (as the shipped CPT configs do), a model drawing noise in
    training and validation: the run stopped after iteration 4 and resumed
    to 6 reaches the uninterrupted run's weights (the checkpoint's random
    states were taken before validation drew from them). With the newest
    checkpoint damaged, --resume passes over the best checkpoint (weights
    only: it resumed from it, with a fresh optimizer, rc 0) for iter_2."""
    cfg = write(
        tmp_path / 'val_train.py', VAL_CFG +
        f"default_hooks['checkpoint']['save_best'] = {save_best!r}\n")
    clean = tmp_path / 'clean'
    # in one process, runs started in the same second share mmengine's
    # message hub (and its best score) unless their names differ
    _train_in_process([
        cfg, '--work-dir',
        str(clean), '--cfg-options', 'experiment_name=clean'
    ])
    work_dir = tmp_path / 'work'
    _train_in_process([
        cfg, '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_iters=4',
        'experiment_name=first'
    ])
    assert (work_dir / 'best_mse_iter_4.pth').is_file() == bool(save_best)
    if damaged:
        path = work_dir / damaged
        path.write_bytes(path.read_bytes()[:200])
        chosen, warnings, weights_only = find_resume_checkpoint(str(work_dir))
        assert chosen == str(work_dir / 'iter_2.pth') and weights_only == 1
        assert any(
            w.startswith(f'checkpoint {work_dir / "best_mse_iter_4.pth"} '
                         'holds no optimizer state') for w in warnings)
    _train_in_process([
        cfg, '--work-dir',
        str(work_dir), '--resume', '--cfg-options', 'experiment_name=second'
    ])
    resumed, uninterrupted = _final_params(work_dir), _final_params(clean)
    assert resumed['iter'] == uninterrupted['iter'] == 6
    assert torch.equal(resumed['params']['w'], uninterrupted['params']['w'])


def test_resume_with_only_weights_is_one_line(tmp_path):
    """The newest checkpoint damaged, the other a best checkpoint (weights
    only): --resume says it cannot continue the run instead of resuming
    the weights with a fresh optimizer (rc 0, another run)."""
    cfg = write(tmp_path / 'val_train.py', VAL_CFG)
    work_dir = tmp_path / 'work'
    _train_in_process([
        cfg, '--work-dir',
        str(work_dir), '--cfg-options', 'train_cfg.max_iters=2'
    ])
    (work_dir / 'iter_2.pth').write_bytes(b'cut')
    with pytest.raises(SystemExit) as exc:
        _train_in_process([cfg, '--work-dir', str(work_dir), '--resume'])
    assert str(exc.value.code).startswith(
        f'error: --resume: no checkpoint in {work_dir} holds the training '
        'state to continue the run (1 damaged, 1 weights only)')
