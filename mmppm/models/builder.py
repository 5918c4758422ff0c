# Copyright (c) mmppm contributors. All rights reserved.
"""The one builder of the model's nested components (backbone, head and its
loss, fitter and its map mode, prompt encoder), with errors that name the
config path.

Components register into mmpose's ``MODELS``. The type and the keys are
resolved by :func:`mmppm.utils.config_checks.component_class` -- the
function the config check of every door runs over the whole config, so an
error reads the same whichever finds it -- and the component checks its
own values in its constructor, naming its place through the ``what``
argument this builder passes to every component whose ``__init__`` takes
one (mmengine would raise a ``KeyError`` for an unknown type and a
``TypeError`` for an unknown key).
"""
import inspect
from typing import Optional

from mmpose.registry import MODELS

from mmppm.utils.config_checks import component_class


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

    Raises:
        ConfigError: An unknown type or key, in one line.
    """
    cls = component_class(cfg, MODELS, what, base)
    cfg = dict(cfg, type=cls)
    if 'what' in inspect.signature(cls.__init__).parameters:
        cfg['what'] = what
    return MODELS.build(cfg, default_args=default_args)
