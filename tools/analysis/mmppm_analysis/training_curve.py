# Copyright (c) mmppm contributors. All rights reserved.
"""Training curves from an mmengine work dir (``tools/analysis/
plot_training_curve.py``, ``tools/analysis/cpt_study_figure.py``).

Reads ``vis_data/scalars.json`` (written by ``LocalVisBackend``): training
rows carry the losses and ``step`` (iteration), validation rows the
``EpisodicPCK`` keys and ``step`` (the iteration they followed).
"""
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

from mmengine.logging import MMLogger

from mmppm.utils.errors import MissingFileError, UserError


def find_scalars(path: str) -> str:
    """``path`` itself if it is a file, else the newest
    ``<path>/<timestamp>/vis_data/scalars.json`` (or
    ``<path>/vis_data/scalars.json``)."""
    if osp.isfile(path):
        return path
    candidates = sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
        glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
    if not candidates:
        raise MissingFileError(f'No vis_data/scalars.json under {path}')
    return candidates[-1]


def read_json_lines(path: str) -> List[dict]:
    """The rows of a JSON-lines file (mmengine's ``scalars.json``).

    A run killed while logging leaves its last line cut short: that line is
    dropped with a warning (the rows before it are the finished work). A
    bad line anywhere else is an error naming the file and line.

    Raises:
        UserError: A line before the last is not a JSON object.
    """
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = [(i + 1, line.strip()) for i, line in enumerate(f)
                 if line.strip()]
    rows = []
    for n, (number, line) in enumerate(lines):
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if isinstance(row, dict):
            rows.append(row)
        elif n == len(lines) - 1:
            MMLogger.get_current_instance().warning(
                f'{path}: line {number} (the last) is not a complete JSON '
                'object (a run killed while logging?); plotting the '
                f'{len(rows)} rows before it')
        else:
            raise UserError(
                f'{path}: line {number} is not a JSON object '
                f'({line[:40]!r}); this is not an mmengine scalars.json, or '
                'it was edited: pass the work dir of a run or its '
                'vis_data/scalars.json')
    return rows


def load_scalars(path: str,
                 val_key: str = 'PCK') -> Tuple[List[dict], List[dict]]:
    """Split a ``scalars.json`` into training and validation rows.

    Args:
        path (str): The JSON-lines file.
        val_key (str): A key only validation rows have. Defaults to 'PCK'.

    Returns:
        tuple[list[dict], list[dict]]: ``(train_rows, val_rows)`` in file
        order; training rows are those with a ``loss`` key. A validation row
        logged with ``LoggerHook(log_metric_by_epoch=True)`` (mmengine's
        default) has ``step`` = epoch (0 in iteration-based training): its
        ``step`` becomes the last training iteration logged before it.
    """
    train, val = [], []
    for row in read_json_lines(path):
        if val_key in row:
            row['after_iter'] = train[-1]['step'] if train else 0
            val.append(row)
        elif 'loss' in row:
            train.append(row)
    steps = [int(r.get('step', 0)) for r in val]
    by_epoch = any(b <= a for a, b in zip(steps, steps[1:]))
    if by_epoch or (steps and steps[0] == 0):
        for row in val:
            row['step'] = row['after_iter']
    return train, val


def load_run(work_dir: str,
             val_key: str = 'PCK') -> Tuple[List[dict], List[dict]]:
    """The training and validation rows of every session of a work dir (a
    resumed run writes a new ``<timestamp>/vis_data/scalars.json``), in
    order; a step logged again by a later session replaces the earlier
    row."""
    paths = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not paths:
        raise MissingFileError(f'No */vis_data/scalars.json under {work_dir}')
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for path in paths:
        t, v = load_scalars(path, val_key)
        train.update({int(r['step']): r for r in t})
        val.update({int(r['step']): r for r in v})
    return ([train[k] for k in sorted(train)], [val[k] for k in sorted(val)])


def series(rows: Sequence[dict], key: str) -> Tuple[List[int], List[float]]:
    """``(steps, values)`` of the rows that have ``key``."""
    pts = [(int(r['step']), float(r[key])) for r in rows if key in r]
    return [p[0] for p in pts], [p[1] for p in pts]


def plot_curves(train: Sequence[dict],
                val: Sequence[dict],
                out: str,
                loss_keys: Sequence[str] = ('loss', 'loss_map', 'loss_dm'),
                val_keys: Sequence[str] = ('PCK', ),
                title: str = '') -> Dict[str, int]:
    """Write a PNG of the losses and (second panel, when ``val_keys`` are
    given) the validation metrics per iteration.

    Returns:
        dict: Number of points drawn per key.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if val_keys:
        fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(8, 3), dpi=80)
    else:
        fig, ax_loss = plt.subplots(1, 1, figsize=(5, 3), dpi=80)
    drawn = {}
    for key in loss_keys:
        x, y = series(train, key)
        if x:
            ax_loss.plot(x, y, label=key)
        drawn[key] = len(x)
    ax_loss.set_xlabel('iteration')
    ax_loss.set_ylabel('training loss')
    ax_loss.legend(fontsize=8)
    for key in val_keys:
        x, y = series(val, key)
        if x:
            ax_val.plot(x, y, 'o-', label=key)
        drawn[key] = len(x)
    if val_keys:
        ax_val.set_xlabel('iteration')
        ax_val.set_ylabel('validation (episodes)')
        ax_val.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return drawn


#: The panels of :func:`plot_study`: validation key and axis label.
STUDY_PANELS = (('PCK', 'val PCK@0.2 (%)'), ('fit_PCK@0.20',
                                             'val fit PCK@0.2 (%)'))


def plot_study(runs: Sequence[Tuple[str, Sequence[dict]]],
               references: Sequence[Tuple[str, float]], out: str) -> None:
    """Write a PNG of several runs' validation PCK and fit PCK (in %) per
    iteration, with a dashed line per reference PCK (e.g. plain PPM on the
    same validation episodes) in the PCK panel: the figure of docs/cpt.md.

    Args:
        runs (Sequence[tuple]): ``(label, validation rows)`` per run
            (:func:`load_run`).
        references (Sequence[tuple]): ``(label, PCK in %)``.
        out (str): The PNG.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=80)
    for ax, (key, ylabel) in zip(axes, STUDY_PANELS):
        for label, val in runs:
            x, y = series(val, key)
            ax.plot(x, [100 * v for v in y], 'o-', ms=3, label=label)
        for i, (label, value) in enumerate(references):
            if key == 'PCK':
                ax.axhline(value, ls='--', color=f'C{7 + i}', label=label)
        ax.set_xlabel('iteration')
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
