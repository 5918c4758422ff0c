# Copyright (c) mmppm contributors. All rights reserved.
"""What the tools check before any work starts, each failure one
:class:`~mmppm.utils.errors.ToolError` line: files they are given exist,
the work dir is writable, a checkpoint loads (``weights_only``), a new
training run does not start over an earlier run's checkpoints, and which
checkpoint ``--resume`` takes."""
import glob
import os
import os.path as osp
import re
from typing import Any, List, Optional, Tuple

from mmengine.config import Config

from mmppm.utils.errors import ToolError, first_line


def _is_local_path(path: str) -> bool:
    return '://' not in path


def require_file(path: str, what: str) -> str:
    """Return ``path`` if it is an existing file (or a URL); raise otherwise.

    Args:
        path (str): A local path or a URL (not checked).
        what (str): What the file is, for the message (``'config file'``).

    Returns:
        str: ``path``.

    Raises:
        ToolError: If a local ``path`` is not a file.
    """
    if _is_local_path(path) and not osp.isfile(osp.expanduser(path)):
        raise ToolError(f'{what} not found: {path}')
    return path


def writable_dir(path: str, what: str) -> str:
    """Create ``path`` if needed and check that files can be written in it,
    before any work starts (not after an hour of it).

    Args:
        path (str): A folder.
        what (str): What it is, for the message (``'--work-dir'``).

    Returns:
        str: ``path``.

    Raises:
        ToolError: It names a file, cannot be created or is read-only.
    """
    import tempfile
    path = osp.expanduser(str(path))
    if osp.exists(path) and not osp.isdir(path):
        raise ToolError(f'{what} {path} is a file, not a folder: choose '
                        'another path')
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix='.mmppm_write_'):
            pass
    except OSError as e:
        raise ToolError(f'{what} {path} cannot be written ({e.strerror or e}'
                        '): choose a writable folder') from None
    return path


def writable_file(path: str, what: str) -> str:
    """Check, before any work, that ``path`` can be written as a file: not
    a folder, its folder not a file, that folder writable (it is created).
    An existing file is fine (replaced whole at the end).

    Raises:
        ToolError: Naming ``what`` and the fix.
    """
    path = osp.expanduser(str(path))
    if osp.isdir(path):
        raise ToolError(f'{what} {path} is a folder, not a file: give a file '
                        f'name, e.g. {osp.join(path, "metrics.json")}')
    writable_dir(osp.dirname(osp.abspath(path)), f'the folder of {what}')
    return path


#: What a checkpoint needs to continue a run as if it had not stopped
#: (mmengine's ``save_checkpoint`` with the optimizer; a ``save_best``
#: checkpoint holds the weights only).
TRAINING_STATE_KEYS = ('state_dict', 'optimizer', 'message_hub')


def read_checkpoint(path: str) -> Tuple[Any, Optional[str]]:
    """``(checkpoint, None)``, or ``(None, why it cannot be loaded)``.

    Loads it the way mmengine will (``torch.load`` with ``weights_only``
    and mmppm's allow-list: nothing in it can run code).
    """
    import torch

    from mmppm.compat.checkpoint_compat import register_checkpoint_safe_globals
    register_checkpoint_safe_globals()
    try:
        return torch.load(path, map_location='cpu', weights_only=True), None
    except Exception as e:  # truncated, random bytes, not a checkpoint
        return None, f'{type(e).__name__}: {first_line(e)[:120]}'


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a loadable checkpoint, or None if it is
    (:func:`read_checkpoint`)."""
    return read_checkpoint(path)[1]


def missing_training_state(checkpoint: Any) -> List[str]:
    """The keys of :data:`TRAINING_STATE_KEYS` a loaded checkpoint lacks."""
    return [
        k for k in TRAINING_STATE_KEYS
        if not isinstance(checkpoint, dict) or k not in checkpoint
    ]


def check_load_from(cfg: Config) -> None:
    """Raise a :class:`ToolError` if ``cfg.load_from`` names a missing local
    file or one that is not a checkpoint (mmengine would fail only after
    building everything, with an unpickling traceback)."""
    load_from = cfg.get('load_from')
    if load_from:
        require_file(load_from, 'checkpoint')
        if _is_local_path(load_from):
            problem = checkpoint_problem(osp.expanduser(load_from))
            if problem:
                raise ToolError(f'not a checkpoint: {load_from} ({problem})')


def work_dir_checkpoints(work_dir: str) -> List[str]:
    """Checkpoints (``*.pth``) and ``last_checkpoint`` in a work dir."""
    found = glob.glob(osp.join(work_dir, '*.pth'))
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        found.append(osp.join(work_dir, 'last_checkpoint'))
    return sorted(found)


def check_fresh_work_dir(work_dir: str) -> None:
    """Refuse to start a new training run over an earlier run's
    checkpoints (mmengine would overwrite ``iter_N.pth`` and delete older
    ones by ``max_keep_ckpts``)."""
    found = work_dir_checkpoints(work_dir)
    if found:
        names = ', '.join(osp.basename(f) for f in found[:4])
        raise ToolError(
            f'work dir {work_dir} holds checkpoints of an earlier run '
            f'({names}{", ..." if len(found) > 4 else ""}): add --resume to '
            'continue it, or choose another --work-dir')


def _iteration(path: str) -> int:
    match = re.search(r'(\d+)\.pth$', osp.basename(path))
    return int(match.group(1)) if match else -1


def find_resume_checkpoint(
        work_dir: str) -> Tuple[Optional[str], List[str], int]:
    """The checkpoint ``--resume`` (auto) should use, and warnings.

    The one ``last_checkpoint`` names if it loads; otherwise the newest
    loadable ``*.pth`` of the work dir (a run killed while saving leaves a
    truncated latest checkpoint) that holds the training state (optimizer,
    scheduler, loop): a best checkpoint holds the weights only, and a run
    resumed from it would not continue the interrupted one.

    Returns:
        tuple: The path (None if the work dir has no checkpoint), the
        warnings to show (one per checkpoint passed over), and how many of
        those were passed over for holding weights only.
    """
    last_file = osp.join(work_dir, 'last_checkpoint')
    last = None
    if osp.isfile(last_file):
        with open(last_file, encoding='utf-8') as f:
            last = f.read().strip()
        if last and not osp.isabs(last) and not osp.isfile(last):
            last = osp.join(work_dir, osp.basename(last))
    candidates = sorted(
        glob.glob(osp.join(work_dir, '*.pth')), key=_iteration, reverse=True)
    if last:
        candidates = [last] + [
            c for c in candidates if osp.abspath(c) != osp.abspath(last)
        ]
    warnings, weights_only = [], 0
    for path in candidates:
        checkpoint, problem = read_checkpoint(path) if osp.isfile(path) else (
            None, 'missing')
        if problem is not None:
            warnings.append(f'checkpoint {path} cannot be loaded ({problem}); '
                            'trying the previous one')
            continue
        missing = missing_training_state(checkpoint)
        if not missing:
            return path, warnings, weights_only
        weights_only += 1
        warnings.append(
            f'checkpoint {path} holds no {" / ".join(missing)} state (weights '
            'saved for testing, e.g. a best checkpoint): resuming from it '
            'would not continue the run; trying the previous one')
    return None, warnings, weights_only
