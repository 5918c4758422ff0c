# Copyright (c) mmppm contributors. All rights reserved.
"""Training curves from mmengine's scalars.json: train / val rows, a
resumed run's sessions as one curve, the figures."""
import json
import os.path as osp

import pytest
from mmppm_analysis.training_curve import (find_scalars, load_run,
                                           load_scalars, plot_curves,
                                           plot_study, series)

PNG = b'\x89PNG\r\n\x1a\n'

ROWS = [
    dict(lr=5e-4, loss=1.4, loss_map=0.25, loss_dm=1.15, iter=10, step=10),
    dict(lr=5e-4, loss=1.3, loss_map=0.2, loss_dm=1.1, iter=20, step=20),
    {
        'PCK@0.20': 0.1,
        'PCK': 0.1,
        'mPCK': 0.05,
        'step': 20
    },
    dict(lr=5e-4, loss=1.2, loss_map=0.1, loss_dm=1.1, iter=30, step=30),
    {
        'PCK@0.20': 0.2,
        'PCK': 0.2,
        'mPCK': 0.1,
        'step': 30
    },
]


@pytest.fixture
def work_dir(tmp_path):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, ROWS)) + '\n')
    return tmp_path


def test_load_scalars_splits_train_and_val(work_dir):
    path = find_scalars(str(work_dir))
    assert path.endswith(osp.join('vis_data', 'scalars.json'))
    assert find_scalars(path) == path
    train, val = load_scalars(path)
    assert series(train, 'loss') == ([10, 20, 30], [1.4, 1.3, 1.2])
    assert series(val, 'PCK') == ([20, 30], [0.1, 0.2])
    # log_metric_by_epoch=True: val step = epoch (0) -> last train iteration
    epoch_steps = [dict(r, step=0) if 'PCK' in r else r for r in ROWS]
    (work_dir / 'epoch.json').write_text('\n'.join(
        map(json.dumps, epoch_steps)))
    train, val = load_scalars(str(work_dir / 'epoch.json'))
    assert series(val, 'PCK') == ([20, 30], [0.1, 0.2])
    with pytest.raises(FileNotFoundError):
        find_scalars(str(work_dir / 'nope'))


def test_plots_write_pngs(work_dir, tmp_path):
    train, val = load_scalars(find_scalars(str(work_dir)))
    out = tmp_path / 'curve.png'
    drawn = plot_curves(train, val, str(out))
    assert drawn == dict(loss=3, loss_map=3, loss_dm=3, PCK=2)
    assert out.read_bytes()[:8] == PNG
    out = tmp_path / 'study.png'
    plot_study([('a', val), ('b', val)], [('PPM', 15.)], str(out))
    assert out.read_bytes()[:8] == PNG


def write_session(work_dir, stamp, rows):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, rows)) + '\n')


def val_row(step, pck, fit):
    return {'PCK': pck, 'fit_PCK@0.20': fit, 'step': step}


def test_a_resumed_runs_sessions_are_one_curve(tmp_path):
    """Two sessions: iterations 0-20, then a resume that logs 20 again (a
    different value: the later session wins) and 30."""
    write_session(tmp_path, '20260101_000000', [
        dict(loss=2., step=10),
        val_row(10, .5, .6),
        dict(loss=1.5, step=20),
        val_row(20, .55, .7)
    ])
    write_session(tmp_path, '20260101_010000', [
        dict(loss=1.4, step=20),
        val_row(20, .57, .7),
        dict(loss=1.2, step=30),
        val_row(30, .6, .8)
    ])
    train, val = load_run(str(tmp_path))
    assert series(train, 'loss') == ([10, 20, 30], [2., 1.4, 1.2])
    assert series(val, 'PCK') == ([10, 20, 30], [.5, .57, .6])
