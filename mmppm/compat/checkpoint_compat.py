# Copyright (c) mmppm contributors. All rights reserved.
"""Let mmengine checkpoints load under torch's ``weights_only=True`` default.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True`` and refuses
any pickled global outside an allow-list. mmengine 0.10.7 calls ``torch.load``
without ``weights_only`` (``mmengine.runner.checkpoint.load_from_local``), and
its checkpoints pickle more than tensors: the message hub's
:class:`~mmengine.logging.HistoryBuffer` objects (whose state holds the
class's statistics functions, pickled as ``getattr(HistoryBuffer, 'min')``)
and numpy arrays / scalars (log history, ``dataset_meta``). ``load_from`` and
``resume`` therefore fail with ``Unsupported global: GLOBAL
mmengine.logging.history_buffer.HistoryBuffer``.

:func:`register_checkpoint_safe_globals` allow-lists exactly those globals.
``getattr`` is not allowed in general: it is replaced, for the unpickler only,
by a function that resolves nothing but ``HistoryBuffer``'s registered
statistics methods. Everything else stays refused, so the full unpickling that
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` would switch on is never needed.
"""
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# The numeric dtypes whose arrays and scalars may appear in checkpoints.
_NUMPY_DTYPES = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8,
                 np.uint16, np.uint32, np.uint64, np.float16, np.float32,
                 np.float64)


def history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Restricted ``getattr`` for the weights-only unpickler.

    Resolves only ``HistoryBuffer.<statistics method>`` (how a pickled
    ``HistoryBuffer`` refers to ``min``/``max``/``mean``/``current`` and
    methods added with ``HistoryBuffer.register_statistics``).

    Args:
        obj (Any): The object the checkpoint asks an attribute of.
        name (str): The attribute name.

    Returns:
        Callable: The statistics method.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    import pickle
    if obj is HistoryBuffer and (name in HistoryBuffer._statistics_methods
                                 or name in ('min', 'max', 'mean', 'current')):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'weights-only load: getattr({obj!r}, {name!r}) is not allowed (mmppm '
        'only allows HistoryBuffer statistics methods).')


def _numpy_core():
    """numpy's ``multiarray`` module, named as pickles of this numpy name
    it (``numpy.core`` on numpy 1.x, ``numpy._core`` on numpy 2)."""
    try:
        from numpy._core import multiarray  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray
    return multiarray


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals mmengine checkpoints need beyond torch's defaults.

    Returns:
        list: Items for :func:`torch.serialization.add_safe_globals`.
    """
    multiarray = _numpy_core()
    items: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        (history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
    ]
    # Pickles name these after the module numpy reports, which differs
    # between numpy 1.x (numpy.core.multiarray) and 2.x (numpy._core...).
    for mod_name in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        items.append((multiarray._reconstruct, f'{mod_name}._reconstruct'))
        items.append((multiarray.scalar, f'{mod_name}.scalar'))
    # numpy >= 1.25 gives each dtype its own class (numpy.dtypes.Float32DType
    # ...), which the unpickler must know to restore a dtype's state.
    items.extend(type(np.dtype(t)) for t in _NUMPY_DTYPES)
    return items


def register_checkpoint_safe_globals() -> None:
    """Allow-list mmengine checkpoint contents for ``weights_only`` loading.

    Idempotent; a no-op on torch without ``add_safe_globals`` (< 2.4, whose
    ``torch.load`` does not default to ``weights_only=True`` anyway).
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:
        add(checkpoint_safe_globals())
