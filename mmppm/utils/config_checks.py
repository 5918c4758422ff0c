# Copyright (c) mmppm contributors. All rights reserved.
"""Config mistakes caught before anything is built, in one line each.

mmengine merges ``--cfg-options`` keys that exist nowhere (a typo such as
``test_dataloaderr.batch_size=1`` is silently added and ignored) and builds
components with their keyword arguments unchecked (``num_episode=3``
surfaces as a ``TypeError`` traceback after the model has loaded). These
checks name the key, the component and the nearest valid choice.
"""
import difflib
import inspect
from typing import Iterable, Optional, Sequence

from .errors import ConfigError


def nearest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``''``."""
    match = difflib.get_close_matches(
        str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ''


def _runner_keys() -> set:
    """Top-level keys the mmengine Runner reads (a config may omit them)."""
    from mmengine.runner import Runner
    return set(inspect.signature(Runner.__init__).parameters) - {'self'}


def check_override_keys(cfg, options: dict) -> None:
    """A ``--cfg-options`` key must name a top-level entry of the config
    (or a Runner setting such as ``work_dir``); below it, a new key is
    accepted (a component argument left at its default in the file, e.g.
    ``model.fitter.early_stop.patience``) unless it is one letter or two
    away from a key that exists there (``datasett``: a typo, not a new
    setting).

    Args:
        cfg (Config | dict): The config before the overrides.
        options (dict): ``{dotted key: value}`` as ``DictAction`` parses.

    Raises:
        ConfigError: Naming the key and the nearest existing one.
    """
    for key in options:
        parts = str(key).split('.')
        node, path = cfg, []
        for part in parts:
            if isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise ConfigError(
                        f'--cfg-options {key}: {".".join(path)} has only '
                        f'{len(node)} entries')
                node, path = node[int(part)], path + [part]
                continue
            if not hasattr(node, 'keys'):
                raise ConfigError(
                    f'--cfg-options {key}: {".".join(path) or "the config"} '
                    f'is {type(node).__name__} {node!r}, not a dict of '
                    'settings')
            if part not in node:
                where = '.'.join(path) or 'the config'
                if not path and part not in _runner_keys():
                    raise ConfigError(
                        f'--cfg-options {key}: {where} has no key {part!r}'
                        f'{nearest(part, node.keys())}')
                close = difflib.get_close_matches(
                    part, [str(k) for k in node.keys()], n=1, cutoff=0.9)
                if path and close:
                    raise ConfigError(
                        f'--cfg-options {key}: {where} has no key {part!r}'
                        f'; did you mean {close[0]!r}?')
                break  # a new setting
            node, path = node[part], path + [part]


def merge_cfg_options(cfg, options: Optional[dict]) -> None:
    """Apply ``--cfg-options`` to ``cfg`` after :func:`check_override_keys`
    (the step ``tools/train.py`` and ``tools/test.py`` share)."""
    if options:
        check_override_keys(cfg, options)
        cfg.merge_from_dict(options)


def explicit_arguments(cls) -> Optional[set]:
    """The keyword arguments ``cls`` accepts, following ``**kwargs`` up
    the class hierarchy; None where that ends open (anything accepted)."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        } - {'self'}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return names
    return None


def check_component(cfg: dict,
                    registry,
                    where: str,
                    base: Optional[type] = None) -> None:
    """One component config: its ``type`` is registered (and, with
    ``base``, one of its subclasses) and every key is an argument of that
    class.

    Args:
        cfg (dict): A config with ``type``.
        registry: The mmengine registry it is built from (its children and
            parents are searched, as ``build`` does).
        where (str): Its place in the config (``'model.backbone'``).
        base (type, optional): The class the component must derive from
            (``MapMode`` for ``model.fitter.map_mode``): another registered
            type is an error listing the valid ones, as the builder's.
    """
    kind = cfg.get('type')
    if not isinstance(kind, str):
        return  # a class object: nothing to look up
    cls = registry.get(kind)
    if base is not None and not (inspect.isclass(cls)
                                 and issubclass(cls, base)):
        from mmppm.models.builder import not_registered
        raise ConfigError(not_registered(where, kind, base))
    if cls is None:
        known = sorted(registry.module_dict)
        for child in registry.children.values():
            known += sorted(child.module_dict)
        raise ConfigError(
            f'{where}.type={kind!r} is not a registered {registry.name} '
            f'type{nearest(kind, known)}')
    accepted = explicit_arguments(cls) if inspect.isclass(cls) else None
    if accepted is None:
        return
    # ``what`` (the config path a component names in its errors) is set by
    # its builder (mmppm.models.builder), not by the config
    accepted = accepted - {'what'}
    for key in cfg:
        if key != 'type' and key not in accepted:
            raise ConfigError(f'{where} ({kind}) has no argument {key!r}'
                              f'{nearest(key, accepted)} (valid: '
                              f'{", ".join(sorted(accepted))})')


def _check_pipeline(pipeline, where: str, registry) -> None:
    if not isinstance(pipeline, (list, tuple)) or not all(
            isinstance(t, dict) and 'type' in t for t in pipeline):
        raise ConfigError(
            f'{where} must be a list of transform configs '
            f"(dict(type='LoadImage'), ...), got {str(pipeline)[:60]!r}")
    for i, step in enumerate(pipeline):
        check_component(step, registry, f'{where}[{i}]')


def _check_moved_model_keys(model: dict) -> None:
    """A key of the flat PPM layout (``model.test_cfg.steps``,
    ``model.head.map_loss``, ...) says where it moved."""
    from mmppm.models.pose_estimators.ppm_cfg import (MOVED_KEYS,
                                                      check_moved_keys)
    for what in MOVED_KEYS:
        part = model.get(what.split('.')[-1])
        if isinstance(part, dict):
            check_moved_keys(part, what, ConfigError)


def _model_parts() -> dict:
    """The model's nested components: config path -> the class they must
    derive from (None: any registered model)."""
    from mmppm.models.fitters import PromptFitter
    from mmppm.models.losses import MapLoss
    from mmppm.models.map_modes import MapMode
    return {
        'backbone': None,
        'head': None,
        'head.loss': MapLoss,
        'prompt_encoder': None,
        'data_preprocessor': None,
        'fitter': PromptFitter,
        'fitter.map_mode': MapMode,
        'fitter.warm_start': PromptFitter,
        'fitter.warm_start.map_mode': MapMode,
        'train_cfg.map_mode': MapMode
    }


def check_components(
    cfg,
    sections: Sequence[str] = ('model', 'train_dataloader', 'val_dataloader',
                               'test_dataloader', 'val_evaluator',
                               'test_evaluator', 'train_cfg', 'val_cfg',
                               'test_cfg')
) -> None:
    """Check the model (and its parts), the datasets and their pipelines,
    the evaluators, the loops (``test_cfg=dict(type='ResumableTestLoop',
    cache_dir=...)``) and custom hooks of a config before the Runner builds
    them (:func:`check_component`).

    Raises:
        ConfigError: The first unknown type or argument.
    """
    from mmengine.registry import DefaultScope
    from mmengine.utils import import_modules_from_strings
    from mmpose.registry import (DATASETS, HOOKS, LOOPS, METRICS, MODELS,
                                 TRANSFORMS)
    if cfg.get('custom_imports'):  # their types register on import
        import_modules_from_strings(**cfg.custom_imports)
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = cfg.get('model') if 'model' in sections else None
        if isinstance(model, dict):
            check_component(model, MODELS, 'model')
            _check_moved_model_keys(model)
            for part, base in _model_parts().items():
                node = model
                for key in part.split('.'):
                    node = node.get(key) if isinstance(node, dict) else None
                if isinstance(node, dict) and 'type' in node:
                    check_component(node, MODELS, f'model.{part}', base)
        for name in sections:
            section = cfg.get(name)
            if not isinstance(section, dict):
                continue
            if name.endswith('_dataloader') and isinstance(
                    section.get('dataset'), dict):
                dataset = section['dataset']
                check_component(dataset, DATASETS, f'{name}.dataset')
                for key in ('pipeline', 'query_pipeline'):
                    if key in dataset:
                        _check_pipeline(dataset[key], f'{name}.dataset.{key}',
                                        TRANSFORMS)
            elif name.endswith('_evaluator') and 'type' in section:
                check_component(section, METRICS, name)
            elif name.endswith('_cfg') and 'type' in section:
                check_component(section, LOOPS, name)
        for i, hook in enumerate(cfg.get('custom_hooks') or []):
            if isinstance(hook, dict):
                check_component(hook, HOOKS, f'custom_hooks[{i}]')
