# Copyright (c) mmppm contributors. All rights reserved.
"""tools/analysis/benchmark_episode.py on the tiny random SD (CPU)."""
import json

import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def bench(load_tool):
    return load_tool('analysis/benchmark_episode.py')


def run(bench, random_sd_dir, tmp_path, *extra):
    out = tmp_path / 'bench.json'
    report = bench.main([
        '--pretrained', random_sd_dir, '--keypoints', '3', '--steps', '2',
        '--queries', '1', '--input-size', '64', '--crop-size', '64', '--out',
        str(out), *extra
    ])
    with open(out) as f:
        saved = json.load(f)
    return report, saved


RUN_FIELDS = ('label', 'path', 'max_batch', 'gradient_checkpointing',
              'map_mode', 'dtype', 'warmup_s', 'episode_s', 'encode_s',
              'fit_s', 'query_s', 'steps_per_s', 'query_images_per_s',
              'peak_mem_mb', 'peak_mem_delta_mb', 'mem_kind', 'unet_calls',
              'losses')


def test_naive_and_fast_agree(bench, random_sd_dir, tmp_path):
    _, saved = run(bench, random_sd_dir, tmp_path, '--max-batch', '64', '2')
    runs = saved['runs']
    assert [r['label']
            for r in runs] == ['naive (full attn)', 'fast b=64', 'fast b=2']
    for r in runs:
        for field in RUN_FIELDS:
            assert field in r, field
        assert r['episode_s'] > 0 and r['steps_per_s'] > 0
        assert r['query_images_per_s'] > 0
        assert r['mem_kind'] == 'cpu_peak_rss'
        assert r['peak_mem_mb'] > 0
        assert len(r['losses']) == 2
    naive = runs[0]
    # Known UNet call counts: naive 2 steps x 3 kpts + 3 query maps; fast
    # b=64: 2 + 1; b=2: 2 x ceil(3/2) + ceil(3/2).
    assert [r['unet_calls'] for r in runs] == [9, 3, 6]
    for r in runs[1:]:
        assert r['speedup_episode'] == pytest.approx(naive['episode_s'] /
                                                     r['episode_s'])
        assert r['losses'] == pytest.approx(naive['losses'], rel=1e-4)
    assert len(saved['comparisons']) == 2
    for c in saved['comparisons']:
        assert c['losses_match'] and c['loss_max_rel_diff'] <= 1e-4
        assert c['map_max_abs_diff'] < 1e-4
        # Random tiny maps are nearly flat: argmax ties may differ.
        assert c['keypoint_agreement_up_to_ties'] == 1.0
    cfg = saved['config']
    assert cfg['keypoints'] == 3 and cfg['steps'] == 2
    assert cfg['fast_dtype_effective'] == 'fp32'


def test_naive_attention_kinds_agree_and_processors_come_back(
        bench, random_sd_dir, tmp_path):
    from diffusers.models.attention_processor import (AttnProcessor,
                                                      AttnProcessor2_0)

    from mmppm.models.backbones.attn_processors import CrossAttnMapProcessor
    reports = {}
    for kind in ('full', 'sdpa'):
        reports[kind], saved = run(bench, random_sd_dir, tmp_path, '--paths',
                                   'naive', '--naive-attention', kind,
                                   '--warmup-steps', '0')
        assert saved['runs'][0]['label'] == f'naive ({kind} attn)'
    assert reports['full']['runs'][0]['losses'] == pytest.approx(
        reports['sdpa']['runs'][0]['losses'], rel=1e-5)
    # The full-attention processors are installed only for the naive run.
    model = bench.build_model(random_sd_dir, input_size=64)
    procs = model.backbone.unet.attn_processors
    before = {n: type(p) for n, p in procs.items()}
    with bench.naive_attention(model.backbone, 'full'):
        inside = set(map(type, model.backbone.unet.attn_processors.values()))
        assert inside == {bench.FullCaptureProcessor, AttnProcessor}
    procs = model.backbone.unet.attn_processors
    after = {n: type(p) for n, p in procs.items()}
    assert after == before
    assert set(before.values()) == {AttnProcessor2_0, CrossAttnMapProcessor}


def test_multishot_chunk_split(bench, random_sd_dir, tmp_path):
    # 2 keypoints x 3 shots = 6 pairs; max_batch 4 splits keypoint 1's shots
    # 1 | 2 across two chunks: its loss must still be the mean over its 3
    # shots, as in the naive loop.
    _, saved = run(bench, random_sd_dir, tmp_path, '--keypoints', '2',
                   '--shots', '3', '--max-batch', '4', '--warmup-steps', '0')
    assert saved['comparisons'][0]['losses_match']


def test_episode_shapes(bench):
    ep = bench.make_episode(4, 2, 3, 32, seed=0)
    assert ep['images'].shape == (5, 3, 32, 32)
    assert ep['images'].min() >= -1 and ep['images'].max() <= 1
    assert ep['targets'].shape == (2, 4, 32, 32)
    assert ep['visible'].shape == (2, 4)
    assert (ep['visible'] == 1).all()


def test_targets_are_the_support_pipelines(bench):
    from mmengine.config import Config
    from mmpose.codecs.utils import generate_gaussian_heatmaps
    codec = bench.support_codec(32)
    cfg = Config.fromfile(bench.EPISODE_DATASET_CFG)
    # the support pipeline's GenerateTarget encoder, at the asked crop
    assert dict(
        cfg.support_pipeline[3].encoder,
        input_size=(32, 32),
        heatmap_size=(32, 32)) == dict(
            type='MSRAHeatmap',
            input_size=(32, 32),
            heatmap_size=(32, 32),
            sigma=codec.sigma)
    heatmaps, _ = generate_gaussian_heatmaps((32, 32), np.array([[[3., 1.]]]),
                                             np.ones((1, 1)), codec.sigma)
    assert codec.sigma == cfg.heatmap_sigma
    assert heatmaps[0, 1, 3] == 1.0  # peak at (x=3, y=1)
    assert np.array_equal(
        codec.encode(np.array([[[3., 1.]]]))['heatmaps'], heatmaps)
    ep = bench.make_episode(2, 1, 1, 32, seed=0)
    peak = ep['targets'][0, 0].argmax()
    assert ep['targets'][0, 0].flatten()[peak] == 1.0


def test_bad_args(bench):
    with pytest.raises(SystemExit):
        bench.parse_args(['--max-batch', '0'])
    with pytest.raises(SystemExit):
        bench.parse_args(['--input-size', '60'])


def test_out_of_memory_run_is_recorded(bench, random_sd_dir, tmp_path,
                                       monkeypatch):
    measure = bench.measure

    def fake_measure(fn, args, episode, device, **kwargs):
        if kwargs.get('max_batch') == 2:
            raise torch.OutOfMemoryError('CUDA out of memory (simulated)')
        return measure(fn, args, episode, device, **kwargs)

    monkeypatch.setattr(bench, 'measure', fake_measure)
    _, saved = run(bench, random_sd_dir, tmp_path, '--max-batch', '64', '2',
                   '--steps', '1', '--warmup-steps', '0')
    oom = {r['label']: r['oom'] for r in saved['runs']}
    assert oom == {
        'naive (full attn)': False,
        'fast b=64': False,
        'fast b=2': True
    }
    assert [c['fast'] for c in saved['comparisons']] == ['fast b=64']


def test_cached_map_mode_flagged(bench, random_sd_dir, tmp_path):
    _, saved = run(bench, random_sd_dir, tmp_path, '--max-batch', '64',
                   '--map-mode', 'ExactMaps', 'CachedMaps', '--steps', '1',
                   '--warmup-steps', '0')
    runs = {r['label']: r for r in saved['runs']}
    assert runs['fast b=64 CachedMaps']['map_mode'] == 'CachedMaps'
    assert runs['fast b=64 CachedMaps']['unet_calls'] == 2  # supports, queries
    flags = {
        c['fast']: (c['expected_to_match'], c['losses_match'])
        for c in saved['comparisons']
    }
    assert flags['fast b=64'] == (True, True)
    assert flags['fast b=64 CachedMaps'][0] is False


def test_warm_start_runs_beside_the_others(bench, random_sd_dir, tmp_path):
    _, saved = run(bench, random_sd_dir, tmp_path, '--max-batch', '64',
                   '--map-mode', 'SharedContextMaps', '--warm-start', '3:1',
                   '--steps', '2', '--warmup-steps', '0')
    runs = {r['label']: r for r in saved['runs']}
    warm = runs['fast b=64 SharedContextMaps 1 steps +3 cached']
    assert warm['warm_steps'] == 3 and len(warm['losses']) == 3 + 1
    # the cached stage's one feature pass on the support, then one
    # shared-context pass per step and one for the query
    assert warm['unet_calls'] == 1 + 1 + 1
    assert runs['fast b=64 SharedContextMaps']['unet_calls'] == 2 + 1
    flags = {c['fast']: c for c in saved['comparisons']}
    warm_cmp = flags['fast b=64 SharedContextMaps 1 steps +3 cached']
    assert warm_cmp['expected_to_match'] is False
    assert warm_cmp['loss_max_rel_diff'] is None  # other steps: no pairing


def test_shots_per_step_runs_beside_the_others(bench, random_sd_dir, tmp_path):
    _, saved = run(bench, random_sd_dir, tmp_path, '--keypoints', '2',
                   '--shots', '3', '--max-batch', '64', '--shots-per-step',
                   '1', '3', '--steps', '2', '--warmup-steps', '0')
    runs = {r['label']: r for r in saved['runs']}
    assert runs['fast b=64 1 shots/step']['shots_per_step'] == 1
    flags = {c['fast']: c for c in saved['comparisons']}
    # all three shots per step is the paper's fit: it equals the naive loop
    assert flags['fast b=64 3 shots/step']['losses_match']
    assert runs['fast b=64 3 shots/step']['losses'] == \
        runs['fast b=64']['losses']
    one = flags['fast b=64 1 shots/step']
    assert one['expected_to_match'] is False and not one['losses_match']


def test_exact_maps_at_other_steps_are_not_expected_to_match(
        bench, random_sd_dir, tmp_path):
    _, saved = run(bench, random_sd_dir, tmp_path, '--max-batch', '64',
                   '--warm-start', '0:1', '--steps', '2', '--warmup-steps',
                   '0')
    flags = {c['fast']: c['expected_to_match'] for c in saved['comparisons']}
    assert flags == {'fast b=64': True, 'fast b=64 1 steps': False}


@pytest.mark.parametrize('bad', ['3', '3:x', '1:-2', '1:2:3'])
def test_a_bad_warm_start_is_one_line(bench, bad, capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(['--warm-start', bad])
    assert 'is not WARM:STEPS' in capsys.readouterr().err
