"""A stand-in for mmcv's compiled operators when only ``mmcv-lite`` is installed.

mmpose 1.3 imports ``mmcv.ops`` at module level (``edpose_head.py``,
``deformable_detr_layers.py``), and ``mmcv.ops`` loads the compiled ``mmcv._ext``
library at import. ``mmcv-lite`` (the pure-Python build of mmcv 2.1, the only one
with a wheel for current torch) has no such library, so ``import mmpose.models``
fails although no PPM component ever calls a compiled mmcv operator.

:func:`install_mmcv_ext_stub` registers a module ``mmcv._ext`` whose every
attribute is a function raising a clear error when *called*. Importing works;
calling a compiled op (DeformConv2d, NMS, ...) tells the user what to install.
It does nothing when a full mmcv with compiled ops is present.
"""
import importlib
import importlib.machinery
import importlib.util
import sys
import types

_MSG = ('mmcv compiled operator "{name}" is not available: mmppm was installed '
        'with mmcv-lite (pure Python). PPM does not need compiled mmcv ops; if '
        'you use an mmpose model that does, install a full mmcv 2.1 build '
        '(see README, "GPU install").')


class _MissingExt(types.ModuleType):
    """Module whose attributes are functions raising an informative error."""

    def __getattr__(self, name: str):
        if name.startswith('__'):
            raise AttributeError(name)

        def _missing(*args, **kwargs):
            raise RuntimeError(_MSG.format(name=name))

        _missing.__name__ = name
        return _missing


def has_compiled_mmcv_ops() -> bool:
    """Whether the installed mmcv ships its compiled ``mmcv._ext`` library."""
    existing = sys.modules.get('mmcv._ext')
    if existing is not None:
        return not isinstance(existing, _MissingExt)
    return importlib.util.find_spec('mmcv._ext') is not None


def install_mmcv_ext_stub() -> bool:
    """Register the stand-in ``mmcv._ext`` if mmcv has no compiled ops.

    Returns:
        bool: True if the stand-in was installed by this call.
    """
    if has_compiled_mmcv_ops():
        return False
    import mmcv  # noqa: F401  (the parent package must exist first)
    stub = _MissingExt('mmcv._ext')
    # A spec without a loader: ``pkgutil.find_loader('mmcv._ext')`` (used by
    # mmengine's ``mmcv_full_available``) then reports "no full mmcv".
    stub.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    sys.modules['mmcv._ext'] = stub
    return True
