# Copyright (c) mmppm contributors. All rights reserved.
"""Config values checked before anything is built (issue 29, cases 10-13):
one line naming the key, the value, what is allowed and the fix."""
from pathlib import Path

import pytest
from mmengine.config import Config

from mmppm.utils import value_checks
from mmppm.utils.errors import ConfigError
from mmppm.utils.value_checks import (VALUE_RULES, check_values, find_values,
                                      size_pair, thresholds)

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted(
    str(p) for p in [
        *(REPO / 'configs').rglob('*.py'), *(
            REPO / 'projects').glob('*/configs/**/*.py')
    ] if '_base_' not in p.parts)
TOY = str(REPO / 'configs/ppm/ppm_toy-sd_1shot_toy.py')
CPT = str(REPO / 'configs/cpt/ppm_cpt_toy-sd_toy.py')


def fix(key, value, allowed, example):
    return (f'{key}={value!r} is not allowed: it must be {allowed}; fix it in '
            f'the config or with --cfg-options {key}={example}')


THRS = 'a list of finite numbers in (0, 1] (PCK thresholds)'
THRS_EX = '"(0.05,0.1,0.15,0.2,0.25)"'
SIGMA = 'a finite number > 0 (Gaussian target sigma, crop pixels)'
SIZE = 'two integers >= 1 (width, height)'
HALF = 'needs a CUDA GPU (this machine has none)'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_every_shipped_config_passes(path):
    check_values(Config.fromfile(path))


def test_find_values_names_list_entries_by_index_and_type():
    cfg = Config.fromfile(TOY)
    found = dict(
        find_values(
            cfg, '*_dataloader.dataset.*pipeline.[TopdownAffine].input_size'))
    assert found == {
        'val_dataloader.dataset.pipeline.2.input_size': (256, 256),
        'val_dataloader.dataset.query_pipeline.2.input_size': (256, 256),
        'test_dataloader.dataset.pipeline.2.input_size': (256, 256),
        'test_dataloader.dataset.query_pipeline.2.input_size': (256, 256)
    }


@pytest.mark.parametrize('value, ok', [((0.2, ), True), ([0.05, 1.0], True),
                                       ((0.2, float('nan')), False),
                                       ((0.2, -1), False), ((0.2, 'a'), False),
                                       ((), False), (0.2, False),
                                       ((0.2, 1.5), False), ((True, ), False)])
def test_thresholds(value, ok):
    assert thresholds(value) is ok


@pytest.mark.parametrize('value, ok', [((256, 256), True), (128, True),
                                       ((0, 0), False), ((256, ), False),
                                       ((256.0, 256), False), ('256', False)])
def test_size_pair(value, ok):
    assert size_pair(value) is ok


# (config, --cfg-options key, value, expected message)
CASES = [
    # case 10: thresholds
    (TOY, 'test_evaluator.thrs', (0.2, float('nan')),
     fix('test_evaluator.thrs', (0.2, float('nan')), THRS, THRS_EX)),
    (TOY, 'test_evaluator.thrs', (0.2, -1),
     fix('test_evaluator.thrs', (0.2, -1), THRS, THRS_EX)),
    (TOY, 'test_evaluator.thrs', (0.2, 'a'),
     fix('test_evaluator.thrs', (0.2, 'a'), THRS, THRS_EX)),
    # case 11: Gaussian target sigma
    (TOY, 'test_dataloader.dataset.pipeline.3.encoder.sigma', -2,
     fix('test_dataloader.dataset.pipeline.3.encoder.sigma', -2, SIGMA,
         '2.0')),
    (TOY, 'test_dataloader.dataset.pipeline.3.encoder.sigma', 0,
     fix('test_dataloader.dataset.pipeline.3.encoder.sigma', 0, SIGMA, '2.0')),
    (CPT, 'train_dataloader.dataset.pipeline.4.encoder.sigma', 0.0,
     fix('train_dataloader.dataset.pipeline.4.encoder.sigma', 0.0, SIGMA,
         '2.0')),
    # case 12: loader, dataset, pipeline and component values
    (TOY, 'test_dataloader.batch_size', 0,
     fix('test_dataloader.batch_size', 0, 'an integer >= 1', '1')),
    (TOY, 'test_dataloader.num_workers', -1,
     fix('test_dataloader.num_workers', -1,
         'an integer >= 0 (0: load in the main process)', '0')),
    (TOY, 'test_dataloader.dataset.mode', 'train',
     fix('test_dataloader.dataset.mode', 'train',
         "'val' or 'test' (episodes) for testing", 'test')),
    (TOY, 'test_dataloader.dataset.pipeline.2.input_size', (0, 0),
     fix('test_dataloader.dataset.pipeline.2.input_size', (0, 0), SIZE,
         '"(256,256)"')),
    (TOY, 'model.backbone.timestep', 'abc',
     fix('model.backbone.timestep', 'abc',
         "an integer >= 0 (below the scheduler's num_train_timesteps)", '10')),
    (TOY, 'model.head.loss_dm_weight', 'abc',
     fix('model.head.loss_dm_weight', 'abc', 'a finite number >= 0', '1.0')),
    (CPT, 'train_dataloader.batch_size', 0,
     fix('train_dataloader.batch_size', 0, 'an integer >= 1', '1')),
    (TOY, 'test_dataloader.dataset.num_queries', 0,
     fix('test_dataloader.dataset.num_queries', 0,
         'an integer >= 1 (queries per episode)', '15')),
    (TOY, 'test_dataloader.dataset.shots', -1,
     fix('test_dataloader.dataset.shots', -1,
         'an integer >= 1 (support images per episode)', '1')),
    (TOY, 'val_dataloader.dataset.num_episodes', 0,
     fix('val_dataloader.dataset.num_episodes', 0,
         'an integer >= 1 (episodes per category)', '200')),
]


@pytest.mark.parametrize(
    'cfg_file, key, value, message',
    CASES,
    ids=[f'{c[1]}={c[2]!r}' for c in CASES])
def test_bad_value_is_one_line_naming_key_and_fix(cfg_file, key, value,
                                                  message):
    cfg = Config.fromfile(cfg_file)
    cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == message


@pytest.mark.parametrize('key, value, allowed, example', [
    ('test_cfg.fp16', True, f'True or False (True {HALF})', 'False'),
    ('model.backbone.torch_dtype', 'float16',
     f"'float32' (float16 / bfloat16 {HALF})", 'float32'),
    ('model.backbone.torch_dtype', 'bfloat16',
     f"'float32' (float16 / bfloat16 {HALF})", 'float32'),
])
def test_half_precision_only_where_the_device_supports_it(
        monkeypatch, key, value, allowed, example):
    """Case 13: a CPU-only machine refuses half precision before the model
    loads; a GPU machine accepts it."""
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict({key: value})
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == fix(key, value, allowed, example)
    monkeypatch.setattr(value_checks, 'half_precision_available', lambda: True)
    check_values(cfg)


def test_every_rule_has_an_example_it_accepts():
    """The fix each message proposes passes its own check."""
    from mmengine.config import DictAction
    for rule in VALUE_RULES:
        example = DictAction._parse_iterable(rule.example)
        assert rule.check(example), rule.pattern


# (tool, config, --cfg-options entry, expected line) for every case above:
# the tools stop with the one line before anything is built (the SD folder
# does not even exist)
TOOL_CASES = [('test.py', cfg, f'{key}={cli}', message)
              for (cfg, key, _, message), cli in zip(CASES, [
                  '(0.2,nan)', '(0.2,-1)', '(0.2,a)', '-2', '0', '0.0', '0',
                  '-1', 'train', '(0,0)', 'abc', 'abc', '0'
              ])]
TOOL_CASES = [('train.py' if cfg == CPT else tool, cfg, option, message)
              for tool, cfg, option, message in TOOL_CASES] + [
                  ('test.py', TOY, 'test_cfg.fp16=True',
                   fix('test_cfg.fp16', True, f'True or False (True {HALF})',
                       'False')),
                  ('test.py', TOY, 'model.backbone.torch_dtype=float16',
                   fix('model.backbone.torch_dtype', 'float16',
                       f"'float32' (float16 / bfloat16 {HALF})", 'float32')),
                  ('test.py', TOY, 'model.backbone.torch_dtype=bfloat16',
                   fix('model.backbone.torch_dtype', 'bfloat16',
                       f"'float32' (float16 / bfloat16 {HALF})", 'float32')),
              ]


@pytest.mark.parametrize(
    'tool, cfg_file, option, message',
    TOOL_CASES,
    ids=[c[2] for c in TOOL_CASES])
def test_tools_stop_before_building(tmp_path, load_tool, toy_default_root,
                                    monkeypatch, tool, cfg_file, option,
                                    message):
    """Cases 10-13 through tools/test.py and tools/train.py (was: a metric
    of 0.0 with exit 0, a run on a negative sigma, a traceback after the
    model loaded)."""
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    loader = 'train_dataloader' if tool == 'train.py' else 'test_dataloader'
    with pytest.raises(SystemExit) as exc:
        load_tool(tool).main([
            cfg_file, '--work-dir',
            str(tmp_path), '--cfg-options',
            'model.backbone.pretrained=/nonexistent/sd',
            f'{loader}.dataset.data_root={toy_default_root}', option
        ])
    assert str(exc.value) == f'error: {message}'


def test_timestep_beyond_the_folders_scheduler(random_sd_dir):
    """The scheduler's range is read from the SD folder before any weights
    load (was: checked only after the UNet and VAE had loaded)."""
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict({
        'model.backbone.pretrained': random_sd_dir,
        'model.backbone.timestep': 1000
    })
    message = fix(
        'model.backbone.timestep', 1000,
        f'an integer in [0, 1000) (the scheduler of {random_sd_dir} '
        'has 1000 timesteps)', '10')
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == message
    cfg.merge_from_dict({'model.backbone.timestep': 999})
    check_values(cfg)
