# Copyright (c) mmppm contributors. All rights reserved.
"""tools/analysis/project_split_cost.py: benchmark reports and a tiny-SD
run (the arithmetic: tests/test_analysis/test_split_cost.py)."""
import json

import pytest
from mmppm_analysis.split_cost import PIECES, episode_flops

from mmppm.utils.errors import ToolError


@pytest.fixture(scope='module')
def proj(load_tool):
    return load_tool('analysis/project_split_cost.py')


def test_memory_points_from_benchmark_reports(proj, tmp_path):
    runs = [
        dict(
            path='naive',
            max_batch=1,
            peak_mem_mb=9.,
            oom=False,
            mem_kind='cpu_peak_rss'),
        dict(
            path='fast',
            max_batch=1,
            peak_mem_mb=10.,
            oom=False,
            map_mode='ExactMaps',
            gradient_checkpointing=False,
            mem_kind='cpu_peak_rss'),
        dict(path='fast', max_batch=2, peak_mem_mb=None, oom=True),
        dict(
            path='fast',
            max_batch=2,
            peak_mem_mb=8.,
            oom=False,
            map_mode='ExactMaps',
            gradient_checkpointing=True,
            mem_kind='cpu_peak_rss'),
        dict(
            path='fast',
            max_batch=4,
            peak_mem_mb=16.,
            oom=False,
            map_mode='ExactMaps',
            gradient_checkpointing=False,
            mem_kind='cpu_peak_rss'),
    ]
    path = tmp_path / 'bench.json'
    path.write_text(json.dumps(dict(runs=runs)))
    points, kinds = proj.memory_points([str(path)])
    assert points == [(1, 10.), (4, 16.)] and kinds == ['cpu_peak_rss']
    with pytest.raises(ToolError, match='cannot read'):
        proj.memory_points([str(tmp_path / 'missing.json')])


def test_random_sd_projection(proj, random_sd_dir, tmp_path):
    out = tmp_path / 'proj.json'
    report = proj.main([
        '--pretrained', random_sd_dir, '--input-size', '64', '--crop-size',
        '32', '--keypoints', '3', '--shots', '1', '2', '--steps', '10',
        '--queries', '2', '--episodes', '100', '--sustained-tflops', '1',
        '--variants', 'exact', 'cached', 'shared_context:4:6',
        'shared_context:10:0:1', '--out',
        str(out)
    ])
    saved = json.loads(out.read_text())
    g = saved['pieces_gflop']
    assert set(g) == set(PIECES) and all(v > 0 for v in g.values())
    # Backward to the prompt costs more than the forward alone, and the
    # cached map arithmetic is far cheaper than a UNet pass.
    assert g['unet_fwd_bwd'] > g['unet_fwd'] > 100 * g['maps_fwd']
    rows = {(r['shots'], r['variant']): r for r in saved['episodes']}
    warm = 'shared_context 4 (+6 cached)'
    one = 'shared_context 10 (1 shots/step)'
    assert set(rows) == {(s, v)
                         for s in (1, 2)
                         for v in ('exact 10', 'cached 10', warm, one)}
    pieces = {k: v * 1e9 for k, v in g.items()}
    expected = episode_flops(pieces, 3, 2, 2, 10, 'exact') / 1e12
    assert rows[(2,
                 'exact 10')]['tflop_per_episode'] == pytest.approx(expected)
    expected = episode_flops(pieces, 3, 2, 2, 4, 'shared_context', 6) / 1e12
    assert rows[(2, warm)]['tflop_per_episode'] == pytest.approx(expected)
    assert rows[(2, warm)]['less_work_than_exact'] == pytest.approx(
        rows[(2, 'exact 10')]['tflop_per_episode'] /
        rows[(2, warm)]['tflop_per_episode'])
    # one of the two shots per step: the steps cost what they cost 1-shot
    expected = episode_flops(pieces, 3, 2, 2, 10, 'shared_context', 0,
                             1) / 1e12
    assert rows[(2, one)]['tflop_per_episode'] == pytest.approx(expected)
    assert rows[(2, one)]['shots_per_step'] == 1
    p = rows[(2, 'exact 10')]['projected']['1.0']
    assert p['gpu_hours_per_split'] == pytest.approx(p['s_per_episode'] * 100 /
                                                     3600)
    assert 'not a measurement' in report['kind']


def test_meta_device_count_equals_the_saved_model_count(proj, random_sd_dir):
    """--arch counts on the meta device (nothing computed or written): the
    same FLOPs as the same architecture saved and loaded with weights."""
    args = [
        '--input-size', '64', '--crop-size', '32', '--keypoints', '2',
        '--shots', '1', '--steps', '1', '--queries', '1'
    ]
    meta = proj.main(['--arch', 'tiny'] + args)
    real = proj.main(['--pretrained', random_sd_dir] + args)
    assert meta['pieces_gflop'] == pytest.approx(real['pieces_gflop'])
    assert 'meta device' in meta['pretrained_path']


def test_memory_only_projection_with_checkpointing(proj, tmp_path):

    def run(b, peak, ckpt):
        return dict(
            path='fast',
            max_batch=b,
            peak_mem_mb=peak,
            oom=False,
            map_mode='ExactMaps',
            gradient_checkpointing=ckpt,
            mem_kind='cpu_peak_rss')

    path = tmp_path / 'bench.json'
    path.write_text(
        json.dumps(
            dict(runs=[
                run(1, 3000., False),
                run(2, 5000., False),
                run(1, 2000., True),
                run(2, 2500., True),
                run(4, 3500., True)
            ])))
    plain = proj.main(['--no-flops', '--memory-json', str(path)])['memory']
    assert plain['base_mb'] == pytest.approx(1000.)
    assert plain['per_pair_mb'] == pytest.approx(2000.)
    assert plain['largest_max_batch'] == 11  # (24576 - 1000) / 2000
    ckpt = proj.main([
        '--no-flops', '--memory-json',
        str(path), '--memory-checkpointing', '--memory-budget-gb', '4'
    ])['memory']
    assert ckpt['base_mb'] == pytest.approx(1500.)
    assert ckpt['per_pair_mb'] == pytest.approx(500.)
    assert ckpt['largest_max_batch'] == 5  # (4096 - 1500) / 500
    with pytest.raises(ToolError, match='nothing to do'):
        proj.main(['--no-flops'])
    one = tmp_path / 'one.json'
    one.write_text(json.dumps(dict(runs=[run(1, 3000., False)])))
    with pytest.raises(ToolError, match='--max-batch 1 2 4'):
        proj.main(['--no-flops', '--memory-json', str(one)])


@pytest.mark.parametrize(
    'bad', ['fast', 'exact:x', 'exact:-1', 'cached:1:2:0', 'cached:1:2:3:4'])
def test_a_bad_variant_is_one_line(proj, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        proj.parse_args(['--variants', bad])
    assert exc.value.code == 2
    assert 'is not MODE[:STEPS[:WARM[:SHOTS_PER_STEP]]]' in capsys.readouterr(
    ).err
