# Copyright (c) mmppm contributors. All rights reserved.
"""Building the extension points (map modes, map losses, the fitter) from
nested config dicts, with errors that name the config path.

Components register into mmpose's ``MODELS``; a config entry's ``type``
must name a registered subclass of the expected base. mmengine would raise
a ``KeyError`` for an unknown type and a ``TypeError`` for an unknown key;
here both are one-line :class:`UserError` s listing the valid choices,
checked when the model is built (before any work).
"""
import inspect
from typing import List, Optional

from mmpose.registry import MODELS

from mmppm.utils.errors import UserError


def registered(base: type) -> List[str]:
    """Names of the registered subclasses of ``base``."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, base))


def not_registered(what: str, kind, base: type) -> str:
    """The one-line error for a ``type`` that is not a registered subclass
    of ``base``: the valid ones, and the nearest to a typo."""
    from mmppm.utils.config_checks import nearest
    valid = registered(base)
    return (f'{what}.type={kind!r} is not a registered {base.__name__} '
            f'(valid: {valid}){nearest(kind, valid)}')


def _init_keys(cls: type) -> Optional[List[str]]:
    """Keyword arguments of ``cls.__init__``, following ``**kwargs`` up the
    class hierarchy (None where that ends open)."""
    from mmppm.utils.config_checks import explicit_arguments
    keys = explicit_arguments(cls)
    return None if keys is None else sorted(keys - {'what'})


def build_component(cfg,
                    base: type,
                    what: str,
                    default_args: Optional[dict] = None):
    """Build ``cfg`` (``dict(type=..., **args)``) from ``MODELS``.

    Args:
        cfg (dict): The config entry.
        base (type): The class the built component must be an instance of.
        what (str): Config path named in errors (``'model.fitter'``); passed
            on as ``what`` to components whose ``__init__`` takes one.
        default_args (dict, optional): Arguments not in the config.

    Returns:
        The built component.
    """
    valid = registered(base)
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise UserError(f"{what} must be a dict with a 'type', one of "
                        f'{valid}; got {cfg!r}')
    cfg = dict(cfg)
    cls = cfg['type']
    if isinstance(cls, str):
        cls = MODELS.get(cls)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise UserError(not_registered(what, cfg['type'], base))
    keys = _init_keys(cls)
    unknown = sorted(set(cfg) - {'type'} - set(cfg if keys is None else keys))
    if unknown:
        raise UserError(f"Unknown {what} keys {unknown} for "
                        f"type={cls.__name__!r}; valid: {sorted(keys)}")
    if 'what' in inspect.signature(cls.__init__).parameters:
        cfg['what'] = what
    cfg['type'] = cls
    return MODELS.build(cfg, default_args=default_args)
