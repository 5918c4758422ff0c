# Copyright (c) mmppm contributors. All rights reserved.
"""EpisodeVisualizationHook on tiny Runner test runs (2 episodes, 2 steps)."""
import glob
import importlib.util
import os.path as osp
import sys

import cv2
import pytest

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.abspath(osp.join(HERE, '..', '..', '..'))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_apis'))
from cape_helpers import (one_thread, small_config, toy_data,  # noqa: E402
                          write_config)

__all__ = ['one_thread', 'toy_data']  # fixtures used below


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
        dict(type='EpisodeVisualizationHook', max_episodes=1, max_queries=1,
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


def test_tools_test_show_dir(random_sd_dir, toy_data, one_thread, tmp_path):
    spec = importlib.util.spec_from_file_location(
        'mmppm_tool_test_vis', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cfg = write_config(small_config(random_sd_dir, toy_data),
                       tmp_path / 'small.py')
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
