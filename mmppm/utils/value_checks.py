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
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Tuple

from mmengine.registry import DefaultScope

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


def unit_interval(value) -> bool:
    """A finite number in [0, 1]."""
    return is_finite_number(value) and 0 <= value <= 1


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
#: the configs set (loaders, datasets, pipelines, evaluators, loops). The
#: project's own model components check their arguments in their
#: constructors (with :func:`require`, so the message reads the same).
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
        "(episodes: model.train_cfg.recipe=dict(type='EpisodicCPTRecipe')) "
        'for training', 'train'),
    ValueRule('val_dataloader.dataset.mode', one_of('val', 'test'),
              "'val' or 'test' (episodes) for validation", 'val'),
    ValueRule('test_dataloader.dataset.mode', one_of('val', 'test'),
              "'val' or 'test' (episodes) for testing", 'test'),
    ValueRule('*_dataloader.dataset.*pipeline.[TopdownAffine].input_size',
              size_pair, 'two integers >= 1 (width, height)', '"(256,256)"'),
    ValueRule(
        '*_dataloader.dataset.*pipeline.[GetBBoxCenterScale].padding',
        positive_number, 'a finite number > 0 (the crop is the box '
        'times it; 1.25 in the benchmark protocol)', '1.25'),
    ValueRule('*_dataloader.dataset.*pipeline.[GenerateTarget].encoder.sigma',
              positive_number, 'a finite number > 0 (Gaussian target sigma, '
              'crop pixels)', '2.0'),
    ValueRule('*_evaluator.thrs', thresholds,
              'a list of finite numbers in (0, 1] (PCK thresholds)',
              '"(0.05,0.1,0.15,0.2,0.25)"'),
    ValueRule('*_evaluator.headline_thr', lambda v: thresholds([v]),
              'a finite number in (0, 1], one of thrs', '0.2'),
    ValueRule('optim_wrapper.optimizer.lr', positive_number,
              'a finite number > 0', '0.0005'),
    ValueRule('optim_wrapper.paramwise_cfg.custom_keys.*.lr_mult',
              non_negative_number,
              'a finite number >= 0 (0 freezes the parameters)', '1.0'),
    ValueRule('optim_wrapper.paramwise_cfg.custom_keys.*.decay_mult',
              non_negative_number, 'a finite number >= 0', '1.0'),
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


def require(value, check: Callable[[object], bool], key: str, allowed: str,
            example: str) -> None:
    """A component's check of one of its arguments, in the one line of
    :func:`value_message`.

    Args:
        value: The argument.
        check (Callable): ``check(value) -> bool``.
        key (str): Its config path (``'model.backbone.timestep'``).
        allowed (str): What is allowed.
        example (str): A valid value as ``--cfg-options`` writes it.

    Raises:
        ConfigError: If ``check(value)`` is false.
    """
    if not check(value):
        raise ConfigError(
            value_message(key, value, ValueRule(key, check, allowed, example)))


def check_values(cfg, rules: Tuple[ValueRule, ...] = VALUE_RULES) -> None:
    """Check the values of ``cfg`` against ``rules`` before anything is
    built.

    Args:
        cfg (Config | dict): The merged config (after ``--cfg-options``).
        rules (tuple[ValueRule]): Defaults to :data:`VALUE_RULES`.

    The table is followed by the keys that must agree:
    :func:`check_pipeline_sizes` and :func:`check_train_recipe`.

    Raises:
        ConfigError: The first bad value, in one line naming the key, the
            value, what is allowed and the fix.
    """
    for rule in rules:
        for key, value in find_values(cfg, rule.pattern):
            if not rule.check(value):
                raise ConfigError(value_message(key, value, rule))
    check_pipeline_sizes(cfg)
    check_train_recipe(cfg)


def _pair(value) -> Optional[Tuple[int, int]]:
    """A size as ``(w, h)`` (an int is a square), None if not a size."""
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return tuple(int(v) for v in value) if all(is_int(v)
                                                   for v in value) else None
    return None


def check_pipeline_sizes(cfg) -> None:
    """The sizes that must agree inside each data set: the support and the
    query crops (every ``TopdownAffine.input_size`` of ``pipeline`` and
    ``query_pipeline``: the support maps are fitted at the size the queries
    are predicted at), and the Gaussian targets' codec
    (``GenerateTarget.encoder``), whose ``input_size`` and
    ``heatmap_size`` must both be that crop (the maps are compared with the
    targets pixel for pixel; docs/method.md).

    Raises:
        ConfigError: In one line naming both keys and the fix.
    """
    for loader in [k for k in cfg.keys() if str(k).endswith('_dataloader')]:
        dataset = (cfg.get(loader) or {}).get('dataset') if hasattr(
            cfg.get(loader), 'get') else None
        if not hasattr(dataset, 'get'):
            continue
        crops, codecs = [], []
        for key in ('pipeline', 'query_pipeline'):
            for i, step in enumerate(dataset.get(key) or []):
                kind = _type_name(step)
                where = f'{loader}.dataset.{key}.{i}'
                if kind.endswith('TopdownAffine') and _pair(
                        step.get('input_size')):
                    crops.append(
                        (f'{where}.input_size', _pair(step['input_size'])))
                encoder = step.get('encoder') if hasattr(step, 'get') else None
                if kind.endswith('GenerateTarget') and hasattr(encoder, 'get'):
                    for name in ('input_size', 'heatmap_size'):
                        if _pair(encoder.get(name)):
                            codecs.append((f'{where}.encoder.{name}',
                                           _pair(encoder[name])))
        if not crops:
            continue
        first_key, first = crops[0]
        for other_key, other in crops[1:] + codecs:
            if other != first:
                raise ConfigError(
                    f'{other_key}={other} does not match {first_key}='
                    f'{first}: support and query crops, and the targets\' '
                    'codec (input and heatmap size), must all be the same '
                    'size (the maps are fitted and decoded at the crop); '
                    'set them to one crop size, e.g. a crop_size variable '
                    'as configs/_base_/datasets/mp100_episodes.py does')


def recipe_class(model) -> Optional[type]:
    """The registered class named by ``model.train_cfg.recipe`` (a CPT
    recipe, ``PaperCPTRecipe`` where the config names none), read from the
    registry; None for an unknown type (the model's builder names it)."""
    from mmpose.registry import MODELS
    train_cfg = (model.get('train_cfg') or {}) if hasattr(model, 'get') else {}
    recipe = train_cfg.get('recipe') or dict(type='PaperCPTRecipe')
    kind = recipe.get('type') if hasattr(recipe, 'get') else None
    if not isinstance(kind, str):
        return kind if isinstance(kind, type) else None
    with DefaultScope.overwrite_default_scope('mmpose'):
        return MODELS.get(kind)


def check_train_recipe(cfg) -> None:
    """The CPT recipe and the train dataset agree: each recipe says which
    dataset mode it trains on (``dataset_mode``: the paper's recipe single
    instances, ``mode='train'``; the episodic one episodes, ``mode='val'``;
    docs/cpt.md).

    Raises:
        ConfigError: In one line naming both keys and the fix.
    """
    model = cfg.get('model') or {}
    if not hasattr(model, 'get') or model.get('prompt_encoder') is None:
        return
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    mode = dataset.get('mode', 'train') if hasattr(dataset, 'get') else None
    recipe = recipe_class(model)
    need = getattr(recipe, 'dataset_mode', None)
    if mode is None or need is None:
        return  # no dataset to compare, or a recipe the model rejects
    if mode != need:
        name = recipe.__name__
        raise ConfigError(
            f"model.train_cfg.recipe.type='{name}' trains on "
            f"{'episodes' if need == 'val' else 'single instances'} but "
            f'train_dataloader.dataset.mode={mode!r}; set '
            f'train_dataloader.dataset.mode={need}' +
            (' (and an episode collate_fn, configs/cpt/'
             'ppm_cpt_toy-sd_mp100-bench_episodic.py)' if need == 'val' else
             ", or model.train_cfg.recipe=dict(type='EpisodicCPTRecipe') "
             'to train on episodes'))
