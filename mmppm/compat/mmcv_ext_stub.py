"""A stand-in for mmcv's compiled operators when only ``mmcv-lite`` is
installed.

mmpose 1.3 imports ``mmcv.ops`` at module level (``edpose_head.py``,
``deformable_detr_layers.py``), and ``mmcv.ops`` loads the compiled
``mmcv._ext`` library at import. ``mmcv-lite`` (the pure-Python build of mmcv
2.1, the only one with a wheel for current torch) has no such library, so
``import mmpose.models`` fails although no PPM component ever calls a
compiled mmcv operator.

:func:`install_mmcv_ext_stub` registers a module ``mmcv._ext`` whose every
attribute is a function raising a clear error when *called*. Importing works;
calling a compiled op (DeformConv2d, NMS, ...) tells the user what to install.
It does nothing when a full mmcv with compiled ops is present.

Import order: ``import mmppm`` registers the stand-in, but a script may
import ``mmpose.models`` first. ``tools/install.sh`` therefore also installs
:func:`install_finder` at interpreter start (a ``.pth`` file loading this
file by path, so nothing heavy is imported): a last-resort import finder that
provides the stand-in whenever ``mmcv._ext`` is imported and no compiled
library exists. This module imports nothing outside the standard library.
"""
import importlib
import importlib.machinery
import importlib.util
import os
import sys
import types

_MSG = (
    'mmcv compiled operator "{name}" is not available: mmppm was installed '
    'with mmcv-lite (pure Python). PPM does not need compiled mmcv ops; if '
    'you use an mmpose model that does, install a full mmcv 2.1 build '
    '(see docs/installation.md, "GPU install").')


class _MissingExt(types.ModuleType):
    """Module whose attributes are functions raising an informative error."""

    __mmppm_stub__ = True  # how copies of this file recognise the stand-in

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
        return not getattr(existing, '__mmppm_stub__', False)
    spec = importlib.util.find_spec('mmcv._ext')
    return spec is not None and not getattr(spec.loader, '__mmppm_stub__',
                                            False)


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


class _StubLoader:
    """Creates the stand-in module (for :class:`StubFinder`)."""

    __mmppm_stub__ = True

    def create_module(self, spec):
        stub = _MissingExt('mmcv._ext')
        # like install_mmcv_ext_stub: no loader, so mmengine's
        # ``mmcv_full_available`` reports "no full mmcv" afterwards
        return stub

    def exec_module(self, module) -> None:
        module.__spec__ = importlib.machinery.ModuleSpec(
            'mmcv._ext', loader=None)


class StubFinder:
    """Last import finder: the stand-in ``mmcv._ext`` when no other finder
    found a compiled one."""

    __mmppm_stub__ = True

    def find_spec(self, fullname, path=None, target=None):
        if fullname != 'mmcv._ext':
            return None
        return importlib.machinery.ModuleSpec(fullname, _StubLoader())


def install_finder() -> None:
    """Append :class:`StubFinder` to ``sys.meta_path`` (once)."""
    if not any(getattr(f, '__mmppm_stub__', False) for f in sys.meta_path):
        sys.meta_path.append(StubFinder())


def pth_line() -> str:
    """The line of a ``.pth`` file that calls :func:`install_finder` at
    interpreter start, loading this file by its path (nothing else is
    imported). ``tools/install.sh`` and ``tools/run_offline_kit.sh`` write it
    with ``python mmppm/compat/mmcv_ext_stub.py --pth-line``. Where the file
    has moved (a checkout of another version), the line does nothing: rerun
    ``tools/install.sh``, which writes it anew."""
    path = os.path.abspath(__file__)
    return ('import os, importlib.util as _u; _p = '
            f"r'{path}'; _s = os.path.isfile(_p) and "
            "_u.spec_from_file_location('_mmppm_mmcv_ext_stub', _p); "
            '_m = _s and _u.module_from_spec(_s); '
            '_s and (_s.loader.exec_module(_m), _m.install_finder())')


if __name__ == '__main__':
    if sys.argv[1:] != ['--pth-line']:
        sys.exit('usage: python mmcv_ext_stub.py --pth-line')
    print(pth_line())
