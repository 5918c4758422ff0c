# Copyright (c) mmppm contributors. All rights reserved.
import json
import os.path as osp

import pytest



@pytest.fixture
def plot_tool(load_tool):
    return load_tool('analysis/plot_training_curve.py')


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


def test_load_scalars_splits_train_and_val(work_dir, plot_tool):
    tool = plot_tool
    path = tool.find_scalars(str(work_dir))
    assert path.endswith(osp.join('vis_data', 'scalars.json'))
    assert tool.find_scalars(path) == path
    train, val = tool.load_scalars(path)
    assert tool.series(train, 'loss') == ([10, 20, 30], [1.4, 1.3, 1.2])
    assert tool.series(val, 'PCK') == ([20, 30], [0.1, 0.2])
    # log_metric_by_epoch=True: val step = epoch (0) -> last train iteration
    epoch_steps = [dict(r, step=0) if 'PCK' in r else r for r in ROWS]
    (work_dir / 'epoch.json').write_text('\n'.join(map(json.dumps,
                                                       epoch_steps)))
    train, val = tool.load_scalars(str(work_dir / 'epoch.json'))
    assert tool.series(val, 'PCK') == ([20, 30], [0.1, 0.2])
    with pytest.raises(FileNotFoundError):
        tool.find_scalars(str(work_dir / 'nope'))


def test_plot_writes_png(work_dir, tmp_path, capsys, plot_tool):
    tool = plot_tool
    out = tmp_path / 'curve.png'
    tool.main([str(work_dir), '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'PCK (2 points)' in capsys.readouterr().out
