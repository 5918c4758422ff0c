# Copyright (c) mmppm contributors. All rights reserved.
"""Config mistakes caught before anything is built, in one line each: the
one check path every door runs (:func:`check_config`: ``tools/train.py``,
``tools/test.py``, :func:`mmppm.apis.init_cape_model` and so the demo and
the web page).

mmengine merges ``--cfg-options`` keys that exist nowhere (a typo such as
``test_dataloaderr.batch_size=1`` is silently added and ignored) and builds
components with their keyword arguments unchecked (``num_episode=3``
surfaces as a ``TypeError`` traceback after the model has loaded). Here
every ``dict(type=...)`` of the config -- nested at any depth, found by
walking it, not from a list of extension points -- is resolved through the
registries by :func:`component_class`, the same function the model's
builder (:func:`mmppm.models.builder.build_component`) uses, so a type or
key error reads the same whichever finds it. Values are the components'
own business: each checks its arguments in its constructor; the table of
:mod:`mmppm.utils.value_checks` holds only the keys no component of this
project owns (loaders, pipelines, evaluators, runner settings).
"""
import difflib
import inspect
from typing import Iterable, List, Optional, Sequence

from mmengine.registry import DefaultScope, Registry
from mmengine.runner import Runner
from mmengine.utils import import_modules_from_strings

from .errors import ConfigError
from .value_checks import check_values


def nearest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``''``."""
    match = difflib.get_close_matches(
        str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ''


def _runner_keys() -> set:
    """Top-level keys the mmengine Runner reads (a config may omit them)."""
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


def registered(registry: Registry, base: type) -> List[str]:
    """Names of the subclasses of ``base`` registered in ``registry``."""
    return sorted(name for name, cls in registry.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, base))


def not_registered(what: str, kind, registry: Registry, base: type) -> str:
    """The one line for a ``type`` that is not a registered subclass of
    ``base``: the valid ones, and the nearest to a typo."""
    valid = registered(registry, base)
    return (f'{what}.type={kind!r} is not a registered {base.__name__} '
            f'(valid: {valid}){nearest(kind, valid)}')


def _known_names(registry: Registry) -> List[str]:
    names = sorted(registry.module_dict)
    for child in registry.children.values():
        names += sorted(child.module_dict)
    return names


def component_class(cfg,
                    registry: Registry,
                    what: str,
                    base: Optional[type] = None):
    """The class (or function) a component config names, its keys checked.

    Args:
        cfg (dict): ``dict(type=..., **arguments)``.
        registry (Registry): Where its ``type`` is looked up (with the
            registry's parents, as ``build`` does).
        what (str): Its config path, named in errors (``'model.fitter'``).
        base (type, optional): The class it must derive from (a map mode
            where ``model.fitter.map_mode`` goes).

    Returns:
        The registered class or function.

    Raises:
        ConfigError: Not a dict with a ``type``; an unregistered type (or
            one not derived from ``base``), with the nearest name; a key
            that is not an argument of the class, with the valid ones.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        valid = registered(registry, base) if base else ''
        raise ConfigError(f"{what} must be a dict with a 'type'"
                          f"{', one of ' + str(valid) if valid else ''}; "
                          f'got {cfg!r}')
    kind = cfg['type']
    cls = kind if inspect.isclass(kind) or callable(kind) else None
    if isinstance(kind, str):
        with DefaultScope.overwrite_default_scope('mmpose'):
            cls = registry.get(kind)
    if base is not None and not (inspect.isclass(cls)
                                 and issubclass(cls, base)):
        raise ConfigError(not_registered(what, kind, registry, base))
    if cls is None:
        raise ConfigError(
            f'{what}.type={kind!r} is not a registered {registry.name} '
            f'type{nearest(kind, _known_names(registry))}')
    accepted = explicit_arguments(cls) if inspect.isclass(cls) else None
    if accepted is not None:
        # ``what`` (the config path a component names in its errors) is set
        # by the builder, not by the config
        accepted = accepted - {'what'}
        name = getattr(cls, '__name__', kind)
        for key in cfg:
            if key != 'type' and key not in accepted:
                raise ConfigError(f'{what} ({name}) has no argument {key!r}'
                                  f'{nearest(key, accepted)} (valid: '
                                  f'{", ".join(sorted(accepted))})')
    return cls


def _all_registries() -> List[Registry]:
    """mmpose's registries (each with mmengine's as parent)."""
    import mmpose.registry as registries
    return [r for r in vars(registries).values() if isinstance(r, Registry)]


def _lookup(kind, preferred: Registry) -> Registry:
    """The registry that knows ``kind``: ``preferred`` (the parent
    component's) first, then any of mmpose's."""
    if not isinstance(kind, str):
        return preferred
    with DefaultScope.overwrite_default_scope('mmpose'):
        for registry in [preferred] + _all_registries():
            if registry.get(kind) is not None:
                return registry
    return preferred


def _walk(node, registry: Registry, what: str) -> None:
    """Check every ``dict(type=...)`` at or below ``node``: a component is
    looked up in ``registry`` (or, nested in another component, in the
    registry that knows its type: a pipeline step's codec is a
    ``KEYPOINT_CODECS`` entry); plain dicts and lists are walked through."""
    if isinstance(node, dict):
        if 'type' in node:
            registry = _lookup(node['type'], registry)
            component_class(node, registry, what)
        for key, value in node.items():
            if key != 'type':
                _walk(value, registry, f'{what}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _walk(value, registry, f'{what}[{i}]')


def _check_pipeline(pipeline, where: str) -> None:
    if not isinstance(pipeline, (list, tuple)) or not all(
            isinstance(t, dict) and 'type' in t for t in pipeline):
        raise ConfigError(
            f'{where} must be a list of transform configs '
            f"(dict(type='LoadImage'), ...), got {str(pipeline)[:60]!r}")


def check_components(
    cfg,
    sections: Sequence[str] = ('model', 'train_dataloader', 'val_dataloader',
                               'test_dataloader', 'val_evaluator',
                               'test_evaluator', 'train_cfg', 'val_cfg',
                               'test_cfg', 'custom_hooks')
) -> None:
    """Every component of the model (at any depth), the datasets and their
    pipelines, the evaluators, the loops and the custom hooks: a registered
    ``type`` and only its arguments (:func:`component_class`), before the
    Runner builds anything. Imports ``custom_imports`` first (their types
    register on import).

    Raises:
        ConfigError: The first unknown type or argument.
    """
    from mmpose.registry import DATASETS, HOOKS, LOOPS, METRICS, MODELS
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    for name in sections:
        section = cfg.get(name)
        if name == 'model' and isinstance(section, dict):
            _walk(section, MODELS, 'model')
        elif name.endswith('_dataloader') and isinstance(section, dict):
            dataset = section.get('dataset')
            if isinstance(dataset, dict):
                for key in ('pipeline', 'query_pipeline'):
                    if key in dataset:
                        _check_pipeline(dataset[key], f'{name}.dataset.{key}')
                _walk(dataset, DATASETS, f'{name}.dataset')
        elif name.endswith('_evaluator'):
            _walk(section, METRICS, name)
        elif name.endswith('_cfg') and isinstance(
                section, dict) and ('type' in section):
            component_class(section, LOOPS, name)
        elif name == 'custom_hooks' and isinstance(section, (list, tuple)):
            for i, hook in enumerate(section):
                if isinstance(hook, dict):
                    component_class(hook, HOOKS, f'custom_hooks[{i}]')


def check_config(cfg, options: Optional[dict] = None) -> None:
    """The check every door runs before it builds anything: ``options``
    (``--cfg-options``) merged after :func:`check_override_keys`, then the
    components' types and keys (:func:`check_components`) and the values no
    component owns (:func:`~mmppm.utils.value_checks.check_values`).

    Args:
        cfg (Config): Changed in place by ``options``.
        options (dict, optional): ``{dotted key: value}``.

    Raises:
        ConfigError: The first problem, in one line.
    """
    merge_cfg_options(cfg, options)
    check_components(cfg)
    check_values(cfg)
