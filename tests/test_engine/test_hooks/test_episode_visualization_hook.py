# Copyright (c) mmppm contributors. All rights reserved.
"""EpisodeVisualizationHook on tiny Runner test runs (2 episodes, 2 steps)."""
import glob
import os.path as osp

import cv2
import pytest

from mmppm.testing.ppm_configs import small_config, write_config


def pictures(root):
    return sorted(
        osp.relpath(p, root)
        for p in glob.glob(osp.join(root, '**', '*.png'), recursive=True))


def test_runner_draws_first_episode_only(random_sd_dir, toy_data, one_thread,
                                         tmp_path):
    from mmengine.runner import Runner
    cfg = small_config(random_sd_dir, toy_data)
    cfg.work_dir = str(tmp_path / 'work')
    cfg.custom_hooks = [
        dict(
            type='EpisodeVisualizationHook',
            max_episodes=1,
            max_queries=1,
            out_dir=str(tmp_path / 'vis'))
    ]
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    assert 'PCK' in metrics
    files = pictures(tmp_path / 'vis')
    cat = runner.test_dataloader.dataset.categories
    name = next(iter(cat.values()))['name']
    assert files == [
        f'episode_00000_{name}/query_0.png',
        f'episode_00000_{name}/query_0_maps.png',
        f'episode_00000_{name}/support_0.png'
    ]
    assert runner.model.test_cfg['output_heatmaps'] is False  # untouched
    query = cv2.imread(str(tmp_path / 'vis' / files[0]))
    support = cv2.imread(str(tmp_path / 'vis' / files[2]))
    assert query.shape[1] > query.shape[0] and support is not None  # GT|pred


def test_tools_test_show_dir(random_sd_dir, toy_data, one_thread, load_tool,
                             tmp_path):
    tool = load_tool('test.py')
    cfg = write_config(
        small_config(random_sd_dir, toy_data), tmp_path / 'small.py')
    work = tmp_path / 'work'
    tool.main([cfg, '--work-dir', str(work), '--show-dir', 'vis'])
    (vis, ) = glob.glob(str(work / '*' / 'vis'))  # {work_dir}/{timestamp}/
    files = pictures(vis)
    episodes = {f.split('/')[0] for f in files}
    assert len(episodes) == 2
    for ep in episodes:
        assert sorted(f.split('/')[1] for f in files if f.startswith(ep)) == [
            'query_0.png', 'query_0_maps.png', 'query_1.png',
            'query_1_maps.png', 'support_0.png'
        ]


def test_invalid_max_episodes():
    from mmppm.engine.hooks import EpisodeVisualizationHook
    with pytest.raises(ValueError, match='max_episodes'):
        EpisodeVisualizationHook(max_episodes=-1)
