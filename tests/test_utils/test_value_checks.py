# Copyright (c) mmppm contributors. All rights reserved.
"""Config values checked before anything is built (issue 29, cases 10-13):
one line naming the key, the value, what is allowed and the fix -- by the
table of the values no component owns (loaders, pipelines, evaluators,
loops), and by the components themselves for their own arguments (issue
34: the same line, from the constructor, before the SD weights load)."""
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

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


# (config path, value, what is allowed, the example the message proposes):
# arguments the model's components check in their constructors
COMPONENT_CASES = [
    ('model.backbone.timestep', 'abc',
     "an integer >= 0 (below the scheduler's num_train_timesteps)", '10'),
    ('model.backbone.timestep', -1,
     "an integer >= 0 (below the scheduler's num_train_timesteps)", '10'),
    ('model.backbone.input_size', (0, 0),
     "two integers >= 8, multiples of 8 (width, height: the VAE's and "
     "UNet's downsampling)", '"(512,512)"'),
    ('model.backbone.torch_dtype', 'float16',
     f"'float32' (float16 / bfloat16 {HALF})", 'float32'),
    ('model.backbone.torch_dtype', 'bfloat16',
     f"'float32' (float16 / bfloat16 {HALF})", 'float32'),
    ('model.head.loss_dm_weight', 'abc', 'a finite number >= 0', '1.0'),
    ('model.head.loss_dm_weight', float('nan'), 'a finite number >= 0', '1.0'),
]


@pytest.mark.parametrize(
    'key, value, allowed, example',
    COMPONENT_CASES,
    ids=[f'{c[0]}={c[1]!r}' for c in COMPONENT_CASES])
def test_components_check_their_own_arguments(monkeypatch, key, value, allowed,
                                              example):
    """The model's components refuse a bad argument in one line before the
    SD weights load (the folder does not exist: a later check would say
    so); a CPU-only machine refuses half precision."""
    from mmpose.registry import MODELS

    import mmppm  # noqa: F401
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict({key: value, 'model.backbone.pretrained': '/no/sd'})
    with pytest.raises(ConfigError) as exc, \
            DefaultScope.overwrite_default_scope('mmpose'):
        MODELS.build(cfg.model)
    assert str(exc.value) == fix(key, value, allowed, example)


def test_half_precision_where_the_device_supports_it(monkeypatch):
    """With a GPU, a half dtype passes the check (and the load is tried)."""
    from mmpose.registry import MODELS

    from mmppm.utils.errors import SDWeightsNotFoundError
    monkeypatch.setattr(value_checks, 'half_precision_available', lambda: True)
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict({
        'model.backbone.torch_dtype': 'float16',
        'model.backbone.pretrained': '/no/sd'
    })
    with pytest.raises(SDWeightsNotFoundError), \
            DefaultScope.overwrite_default_scope('mmpose'):
        MODELS.build(cfg.model)


def test_fp16_runner_flag_only_where_the_device_supports_it(monkeypatch):
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict({'test_cfg.fp16': True})
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == fix('test_cfg.fp16', True,
                                 f'True or False (True {HALF})', 'False')
    monkeypatch.setattr(value_checks, 'half_precision_available', lambda: True)
    check_values(cfg)


def test_every_rule_has_an_example_it_accepts():
    """The fix each message proposes passes its own check."""
    from mmengine.config import DictAction
    for rule in VALUE_RULES:
        example = DictAction._parse_iterable(rule.example)
        assert rule.check(example), rule.pattern


# (tool, config, --cfg-options entry, expected line) for every case above:
# the tools stop with the one line before anything is built or loaded (the
# SD folder does not even exist)
TOOL_CASES = [('test.py', cfg, f'{key}={cli}', message)
              for (cfg, key, _, message), cli in zip(CASES, [
                  '(0.2,nan)', '(0.2,-1)', '(0.2,a)', '-2', '0', '0.0', '0',
                  '-1', 'train', '(0,0)', '0'
              ])]
TOOL_CASES = [
    ('train.py' if cfg == CPT else tool, cfg, option, message)
    for tool, cfg, option, message in TOOL_CASES
] + [('test.py', TOY, 'test_cfg.fp16=True',
      fix('test_cfg.fp16', True, f'True or False (True {HALF})', 'False'))] + [
          ('test.py', TOY, f'{key}={cli}', fix(key, value, allowed, example))
          for (key, value, allowed, example), cli in zip(
              COMPONENT_CASES,
              ['abc', '-1', '(0,0)', 'float16', 'bfloat16', 'abc', 'nan'])
      ]


@pytest.mark.parametrize(
    'tool, cfg_file, option, message',
    TOOL_CASES,
    ids=[c[2] for c in TOOL_CASES])
def test_tools_stop_before_building(tmp_path, load_tool, toy_default_root,
                                    monkeypatch, capsys, tool, cfg_file,
                                    option, message):
    """Cases 10-13 through tools/test.py and tools/train.py (was: a metric
    of 0.0 with exit 0, a run on a negative sigma, a traceback after the
    model loaded); a component's own argument stops the tool in the same
    line, from its constructor, before the SD folder is read."""
    from mmppm.engine.cli import run_tool
    monkeypatch.setattr(value_checks, 'half_precision_available',
                        lambda: False)
    loader = 'train_dataloader' if tool == 'train.py' else 'test_dataloader'
    with pytest.raises(SystemExit) as exc:
        run_tool(
            load_tool(tool).main, [
                cfg_file, '--work-dir',
                str(tmp_path), '--cfg-options',
                'model.backbone.pretrained=/nonexistent/sd',
                f'{loader}.dataset.data_root={toy_default_root}', option
            ])
    code = exc.value.code
    lines = [code] if isinstance(code, str) else [
        line for line in capsys.readouterr().err.splitlines()
        if line.startswith('error')
    ]
    assert lines[0] == f'error: {message}'


def test_timestep_beyond_the_folders_scheduler(random_sd_dir):
    """The scheduler's range is read from the SD folder by the backbone
    before any weights load (was: checked only after the UNet and VAE had
    loaded)."""
    from mmpose.registry import MODELS

    import mmppm  # noqa: F401
    message = fix(
        'model.backbone.timestep', 1000,
        f'an integer in [0, 1000) (the scheduler of {random_sd_dir} '
        'has 1000 timesteps)', '10')
    with pytest.raises(ConfigError) as exc, \
            DefaultScope.overwrite_default_scope('mmpose'):
        MODELS.build(
            dict(
                type='SDCrossAttnBackbone',
                pretrained=random_sd_dir,
                timestep=1000,
                input_size=(64, 64)))
    assert str(exc.value) == message
    with DefaultScope.overwrite_default_scope('mmpose'):
        backbone = MODELS.build(
            dict(
                type='SDCrossAttnBackbone',
                pretrained=random_sd_dir,
                timestep=999,
                input_size=(64, 64)))
    assert backbone.timestep == 999


@pytest.mark.parametrize('padding', [0, -1.25, float('nan')])
def test_crop_padding_must_be_positive(padding):
    """Issue 35 case 4: a padding of 0 or below ran to rc 0 with PCK 8.6."""
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict(
        {'test_dataloader.dataset.query_pipeline.1.padding': padding})
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == fix(
        'test_dataloader.dataset.query_pipeline.1.padding', padding,
        'a finite number > 0 (the crop is the box times it; 1.25 in the '
        'benchmark protocol)', '1.25')


@pytest.mark.parametrize('key, value, bad', [
    ('test_dataloader.dataset.query_pipeline.2.input_size',
     (96, 96), 'test_dataloader.dataset.query_pipeline.2.input_size=(96, 96)'),
    ('test_dataloader.dataset.pipeline.3.encoder.heatmap_size', (64, 64),
     'test_dataloader.dataset.pipeline.3.encoder.heatmap_size=(64, 64)'),
    ('test_dataloader.dataset.pipeline.3.encoder.input_size', (48, 48),
     'test_dataloader.dataset.pipeline.3.encoder.input_size=(48, 48)'),
])
def test_crop_and_codec_sizes_must_agree(key, value, bad):
    """Issue 35 case 5: support and query crops, or codec input / heatmap
    sizes, that disagree gave tracebacks after the model loaded or rc 0
    with PCK 11.5; now one line naming both keys, before anything is
    built."""
    cfg = Config.fromfile(TOY)
    check_values(cfg)
    size = cfg.test_dataloader.dataset.pipeline[2].input_size
    cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value).startswith(
        f'{bad} does not match test_dataloader.dataset.pipeline.2.'
        f'input_size={tuple(size)}: support and query crops')


@pytest.mark.parametrize('mult', [-50.0, float('inf')])
def test_negative_lr_mult_is_refused(mult):
    """Issue 35 case 6: a negative lr_mult trained at a negative learning
    rate and saved checkpoints with rc 0."""
    cfg = Config.fromfile(CPT)
    key = 'optim_wrapper.paramwise_cfg.custom_keys.base_prompts.lr_mult'
    cfg.merge_from_dict({key: mult})
    with pytest.raises(ConfigError) as exc:
        check_values(cfg)
    assert str(exc.value) == fix(
        key, mult, 'a finite number >= 0 (0 freezes the parameters)', '1.0')
