"""Every shipped config loads; the MP-100 configs build their episodes."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmpose.registry import DATASETS

from mmppm.testing.mp100_fixtures import require_shared_ann_file

REPO_ROOT = Path(__file__).resolve().parents[1]

CONFIGS = sorted(
    str(p) for p in (REPO_ROOT / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_config_loads(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'][0] == 'mmppm'
    assert cfg.test_dataloader.batch_size == 1
    assert cfg.model.type in ('PPMEstimator', 'SupportCopyBaseline',
                              'FeatureMatchingBaseline')


@pytest.mark.parametrize('shots', [1, 5])
def test_split1_config_builds_60000_queries(shots):
    ann_dir = Path(require_shared_ann_file('mp100_split1_test.json')).parent
    cfg = Config.fromfile(
        str(REPO_ROOT / f'configs/ppm/ppm_sd15_{shots}shot_mp100-split1.py'))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = str(ann_dir.parent) + '/'
    init_default_scope('mmpose')
    dataset = DATASETS.build(ds_cfg)
    assert len(dataset) == 20 * 200
    info = dataset.get_data_info(0)
    assert len(info['support']) == shots and len(info['query']) == 15
