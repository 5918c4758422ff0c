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


FAST = {
    1: ('shared-context-60steps', dict(steps=60)),
    5: ('shared-context-3shots-per-step', dict(shots_per_step=3)),
}


@pytest.mark.parametrize('split', [1, 2, 3, 4, 5])
@pytest.mark.parametrize('shots', [1, 5])
def test_fast_configs_change_only_the_fitter(shots, split):
    """The paper's configs keep exact maps at 100 steps on every shot; the
    fast variant of each (docs/benchmark.md) changes the fitter alone."""
    name = f'configs/ppm/ppm_sd15_{shots}shot_mp100-split{split}'
    paper = Config.fromfile(str(REPO_ROOT / f'{name}.py')).to_dict()
    suffix, changed = FAST[shots]
    fast = Config.fromfile(str(REPO_ROOT / f'{name}_{suffix}.py')).to_dict()
    fitter = paper['model'].pop('fitter')
    assert fitter['map_mode']['type'] == 'ExactMaps'
    assert fitter['steps'] == 100 and 'shots_per_step' not in fitter
    expected = dict(fitter, **changed)
    expected['map_mode'] = dict(fitter['map_mode'], type='SharedContextMaps')
    assert fast['model'].pop('fitter') == expected
    assert fast == paper
