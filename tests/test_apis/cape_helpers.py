# Copyright (c) mmppm contributors. All rights reserved.
"""A small PPM config on tiny data, shared by the API, demo and hook tests."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOY_CONFIG = osp.join(REPO, 'configs', 'ppm', 'ppm_random-sd_1shot_toy.py')
CROP = 64  # crop, map and SD input size of the tests
TOY_KWARGS = dict(seed=0,
                  num_categories=(1, 1, 1),
                  instances_per_category=6,
                  num_keypoints=(5, 6))


def small_config(sd_dir: str, data_root: str, steps: int = 2) -> Config:
    """The toy config at ``CROP`` pixels, 2 episodes of 1 + 2 images."""
    cfg = Config.fromfile(TOY_CONFIG)
    cfg.model.backbone.pretrained = sd_dir
    cfg.model.backbone.input_size = (CROP, CROP)
    cfg.model.fitter.steps = steps
    dataset = cfg.test_dataloader.dataset
    for key in ('pipeline', 'query_pipeline'):
        for t in dataset[key]:
            if t['type'] == 'TopdownAffine':
                t['input_size'] = (CROP, CROP)
            if t['type'] == 'GenerateTarget':
                t['encoder'] = dict(t['encoder'],
                                    input_size=(CROP, CROP),
                                    heatmap_size=(CROP, CROP))
    dataset.update(data_root=str(data_root) + '/', num_episodes=2,
                   num_queries=2)
    cfg.log_level = 'WARNING'
    return cfg


def write_config(cfg: Config, path) -> str:
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def one_thread():
    """One torch thread: the CPUs are shared, threads only fight there."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory) -> str:
    from mmppm.datasets import generate_toy_mp100
    root = tmp_path_factory.mktemp('toy_cape')
    generate_toy_mp100(root, **TOY_KWARGS)
    return str(root)
