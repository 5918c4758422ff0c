# Copyright (c) mmppm contributors. All rights reserved.
"""The toy SD's stage configs (projects/toy_sd/configs) load."""
from pathlib import Path

import pytest
from mmengine.config import Config

PROJECT = Path(__file__).resolve().parents[3] / 'projects' / 'toy_sd'
TOY_SD_CONFIGS = sorted(str(p) for p in (PROJECT / 'configs').glob('toy-*.py'))


@pytest.mark.parametrize('path', TOY_SD_CONFIGS, ids=lambda p: Path(p).name)
def test_toy_sd_config_loads(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type in ('ToyVAETrainer', 'ToyLDMTrainer')
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert {'FiniteLossHook',
            'RandomStateHook'} <= {h['type']
                                   for h in cfg.custom_hooks}
    # a fixed name would make the UNet stage reuse the VAE stage's visualizer
    # (one process, two Runners) and log its scalars in the VAE's work dir
    assert 'name' not in cfg.visualizer
