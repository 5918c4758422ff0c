# Copyright (c) mmppm contributors. All rights reserved.
"""tools/analysis/plot_training_curve.py (the arithmetic:
tests/test_analysis/test_training_curve.py)."""
import json


def test_plot_writes_png(load_tool, tmp_path, capsys):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    rows = [
        dict(loss=1.4, loss_map=0.25, loss_dm=1.15, step=10), {
            'PCK@0.20': 0.1,
            'PCK': 0.1,
            'step': 10
        }
    ]
    (vis / 'scalars.json').write_text('\n'.join(map(json.dumps, rows)))
    out = tmp_path / 'curve.png'
    load_tool('analysis/plot_training_curve.py').main(
        [str(tmp_path), '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert 'PCK (1 points)' in capsys.readouterr().out
