# Copyright (c) mmppm contributors. All rights reserved.
"""Config values checked before anything is built, in one line each.

:mod:`mmppm.utils.config_checks` catches unknown keys and types; this
module catches known keys with values the components would choke on later
(a ``batch_size`` of 0, a threshold of NaN, a negative Gaussian sigma,
half precision on a CPU): a traceback after the model has loaded, or worse
a run that finishes with wrong numbers. The rules are one table,
:data:`VALUE_RULES`, of (key pattern, check, what is allowed, an example
value); :func:`check_values` applies them to a config and raises a
:class:`~mmppm.utils.config_checks.ConfigError` naming the key, the bad
value, what is allowed and the ``--cfg-options`` that fixes it.

Key patterns are dotted paths whose parts are ``fnmatch`` patterns over the
keys of a dict (``*_dataloader`` matches ``train_dataloader``,
``val_dataloader`` and ``test_dataloader``) or, inside a list,
``[TypeName]`` for the entries of that ``type`` (a pipeline step). A key the
config does not set is not checked (the component's default holds).
"""
import fnmatch
import json
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Iterator, Tuple

from .errors import ConfigError
from .numerics import is_finite_number, is_int


def half_precision_available() -> bool:
    """Whether float16 / bfloat16 compute is supported here (a CUDA GPU);
    on a CPU the UNet and the inputs end up in different dtypes."""
    import torch
    return torch.cuda.is_available()


# ----------------------------------------------------------------- checks
def positive_int(value) -> bool:
    """An integer >= 1."""
    return is_int(value) and value >= 1


def non_negative_int(value) -> bool:
    """An integer >= 0."""
    return is_int(value) and value >= 0


def positive_number(value) -> bool:
    """A finite number > 0."""
    return is_finite_number(value) and value > 0


def non_negative_number(value) -> bool:
    """A finite number >= 0."""
    return is_finite_number(value) and value >= 0


def thresholds(value) -> bool:
    """A non-empty list or tuple of finite numbers in (0, 1]."""
    return isinstance(value, (list, tuple)) and len(value) > 0 and all(
        is_finite_number(t) and 0 < t <= 1 for t in value)


def size_pair(value) -> bool:
    """Two integers >= 1 (width, height), or one (a square)."""
    if is_int(value):
        return value >= 1
    return isinstance(value, (list, tuple)) and len(value) == 2 and all(
        positive_int(v) for v in value)


def one_of(*choices) -> Callable[[object], bool]:
    """A check that the value is one of ``choices``."""
    return lambda value: isinstance(value, str) and value in choices


def precision_dtype(value) -> bool:
    """``'float32'``, or a half dtype where the device supports it (the
    dtype names themselves are checked by the backbone)."""
    return value not in ('float16', 'bfloat16') or half_precision_available()


def fp16_flag(value) -> bool:
    """A bool, True only where the device supports half precision."""
    return isinstance(value, bool) and (not value
                                        or half_precision_available())


@dataclass(frozen=True)
class ValueRule:
    """One row of :data:`VALUE_RULES`.

    Attributes:
        pattern (str): The key pattern (module docstring).
        check (Callable): ``check(value) -> bool``.
        allowed (str): What is allowed, for the message.
        example (str): A valid value as ``--cfg-options`` writes it.
    """
    pattern: str
    check: Callable[[object], bool]
    allowed: str
    example: str


_HALF = 'needs a CUDA GPU (this machine has none)'
#: The values checked before a run starts: the mmengine / mmpose settings
#: the configs set and the arguments of the project's components.
VALUE_RULES: Tuple[ValueRule, ...] = (
    ValueRule('*_dataloader.batch_size', positive_int, 'an integer >= 1', '1'),
    ValueRule('*_dataloader.num_workers', non_negative_int,
              'an integer >= 0 (0: load in the main process)', '0'),
    ValueRule('*_dataloader.dataset.shots', positive_int,
              'an integer >= 1 (support images per episode)', '1'),
    ValueRule('*_dataloader.dataset.num_queries', positive_int,
              'an integer >= 1 (queries per episode)', '15'),
    ValueRule('*_dataloader.dataset.num_episodes', positive_int,
              'an integer >= 1 (episodes per category)', '200'),
    ValueRule(
        'train_dataloader.dataset.mode', one_of('train', 'val'),
        "'train' (one sample per instance: the paper's CPT) or 'val' "
        "(episodes: model.train_cfg.recipe='episodic') for training", 'train'),
    ValueRule('val_dataloader.dataset.mode', one_of('val', 'test'),
              "'val' or 'test' (episodes) for validation", 'val'),
    ValueRule('test_dataloader.dataset.mode', one_of('val', 'test'),
              "'val' or 'test' (episodes) for testing", 'test'),
    ValueRule('*_dataloader.dataset.*pipeline.[TopdownAffine].input_size',
              size_pair, 'two integers >= 1 (width, height)', '"(256,256)"'),
    ValueRule('*_dataloader.dataset.*pipeline.[GenerateTarget].encoder.sigma',
              positive_number, 'a finite number > 0 (Gaussian target sigma, '
              'crop pixels)', '2.0'),
    ValueRule('*_evaluator.thrs', thresholds,
              'a list of finite numbers in (0, 1] (PCK thresholds)',
              '"(0.05,0.1,0.15,0.2,0.25)"'),
    ValueRule('*_evaluator.headline_thr', lambda v: thresholds([v]),
              'a finite number in (0, 1], one of thrs', '0.2'),
    ValueRule('model.backbone.timestep', non_negative_int,
              "an integer >= 0 (below the scheduler's num_train_timesteps)",
              '10'),
    ValueRule('model.backbone.input_size', size_pair,
              'two integers >= 1 (width, height)', '"(512,512)"'),
    ValueRule('model.backbone.torch_dtype', precision_dtype,
              f"'float32' (float16 / bfloat16 {_HALF})", 'float32'),
    ValueRule('model.head.loss_dm_weight', non_negative_number,
              'a finite number >= 0', '1.0'),
    ValueRule('model.*_weight', non_negative_number, 'a finite number >= 0',
              '0.2'),
    ValueRule('model.fitter.steps', non_negative_int, 'an integer >= 0',
              '100'),
    ValueRule('model.fitter.lr', positive_number, 'a finite number > 0',
              '0.002'),
    ValueRule('optim_wrapper.optimizer.lr', positive_number,
              'a finite number > 0', '0.0005'),
    ValueRule('train_cfg.max_iters', positive_int, 'an integer >= 1', '2000'),
    ValueRule('train_cfg.max_epochs', positive_int, 'an integer >= 1', '1'),
    ValueRule('*_cfg.fp16', fp16_flag, f'True or False (True {_HALF})',
              'False'),
)


def _type_name(entry) -> str:
    kind = entry.get('type') if hasattr(entry, 'get') else None
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


def find_values(node,
                pattern: str,
                prefix: str = '') -> Iterator[Tuple[str, object]]:
    """``(dotted key, value)`` of every key of ``node`` that ``pattern``
    matches (module docstring); list entries are named by their index, as
    ``--cfg-options`` writes them."""
    part, _, rest = pattern.partition('.')
    if isinstance(node, (list, tuple)):
        if not (part.startswith('[') and part.endswith(']')):
            return
        items = [(str(i), v) for i, v in enumerate(node)
                 if _type_name(v) == part[1:-1]]
    elif hasattr(node, 'keys'):
        items = [(str(k), node[k]) for k in node.keys()
                 if fnmatch.fnmatchcase(str(k), part)]
    else:
        return
    for key, value in items:
        where = f'{prefix}.{key}' if prefix else key
        if rest:
            yield from find_values(value, rest, where)
        else:
            yield where, value


def value_message(key: str, value, rule: ValueRule) -> str:
    """The one line of a value that breaks ``rule``."""
    return (f'{key}={value!r} is not allowed: it must be {rule.allowed}; '
            f'fix it in the config or with --cfg-options '
            f'{key}={rule.example}')


def check_timestep(cfg) -> None:
    """``model.backbone.timestep`` below the ``num_train_timesteps`` of the
    scheduler of a local SD folder (``model.backbone.pretrained``), read
    from ``scheduler/scheduler_config.json`` before any weights load (a hub
    id, or a folder without that file, is checked when the scheduler
    loads).

    Raises:
        ConfigError: In the one line of :func:`value_message`.
    """
    backbone = cfg.get('model', {}).get('backbone') if hasattr(
        cfg.get('model'), 'get') else None
    if not hasattr(backbone, 'get'):
        return
    timestep, folder = backbone.get('timestep'), backbone.get('pretrained')
    if not is_int(timestep) or not isinstance(folder, str):
        return
    path = osp.join(
        osp.expanduser(folder), 'scheduler', 'scheduler_config.json')
    try:
        with open(path, encoding='utf-8') as f:
            steps = json.load(f).get('num_train_timesteps')
    except (OSError, ValueError, AttributeError):
        return
    if is_int(steps) and not timestep < steps:
        rule = ValueRule(
            'model.backbone.timestep', non_negative_int,
            f'an integer in [0, {steps}) (the scheduler of '
            f'{folder} has {steps} timesteps)', '10')
        raise ConfigError(value_message(rule.pattern, timestep, rule))


def check_values(cfg, rules: Tuple[ValueRule, ...] = VALUE_RULES) -> None:
    """Check the values of ``cfg`` against ``rules`` before anything is
    built.

    Args:
        cfg (Config | dict): The merged config (after ``--cfg-options``).
        rules (tuple[ValueRule]): Defaults to :data:`VALUE_RULES`.

    The table is followed by :func:`check_timestep` (a range that depends
    on the SD folder) and :func:`check_train_recipe` (two keys that must
    agree).

    Raises:
        ConfigError: The first bad value, in one line naming the key, the
            value, what is allowed and the fix.
    """
    for rule in rules:
        for key, value in find_values(cfg, rule.pattern):
            if not rule.check(value):
                raise ConfigError(value_message(key, value, rule))
    check_timestep(cfg)
    check_train_recipe(cfg)


def check_train_recipe(cfg) -> None:
    """The CPT recipe and the train dataset agree: the paper's recipe
    trains on single instances (``mode='train'``), the episodic one on
    episodes (``mode='val'``, docs/cpt.md).

    Raises:
        ConfigError: In one line naming both keys and the fix.
    """
    model = cfg.get('model') or {}
    if not hasattr(model, 'get') or model.get('prompt_encoder') is None:
        return
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    mode = dataset.get('mode', 'train') if hasattr(dataset, 'get') else None
    recipe = (model.get('train_cfg') or {}).get('recipe', 'paper')
    if mode is None or recipe not in ('paper', 'episodic'):
        return  # no dataset to compare, or a recipe the model rejects
    if recipe == 'episodic' and mode != 'val':
        raise ConfigError(
            "model.train_cfg.recipe='episodic' trains on episodes but "
            f'train_dataloader.dataset.mode={mode!r}; set '
            'train_dataloader.dataset.mode=val (and an episode collate_fn, '
            'configs/cpt/ppm_cpt_toy-sd_mp100-bench_episodic.py)')
    if recipe == 'paper' and mode != 'train':
        raise ConfigError(
            "model.train_cfg.recipe='paper' trains on single instances but "
            f'train_dataloader.dataset.mode={mode!r}; use '
            'train_dataloader.dataset.mode=train, or model.train_cfg.'
            'recipe=episodic to train on episodes')
