# Copyright (c) mmppm contributors. All rights reserved.
"""Per-category PCK tables and bar charts from a test run's metrics.

:class:`~mmppm.evaluation.EpisodicPCK` reports ``PCK@0.05`` ... ``PCK@0.25``,
``mPCK``, ``PCK`` and ``PCK@0.20/<category>`` (fractions). mmengine writes
them to ``{work_dir}/{timestamp}/{timestamp}.json``; ``tools/test.py --out``
dumps them too. :func:`write_tables` is what
``tools/analysis/metrics_table.py`` writes.
"""
import csv
import glob
import io
import json
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Tuple

from mmppm.utils.errors import MissingFileError, UserError
from mmppm.utils.numerics import is_number

CATEGORY_KEY = re.compile(r'PCK@(\d+(?:\.\d+)?)/(.+)$')
SUMMARY_KEY = re.compile(r'(?:^|/)(PCK@\d+(?:\.\d+)?|mPCK|PCK)$')


def _read_json_or_lines(path: str) -> List[dict]:
    """A JSON object, or JSON lines (mmengine's ``scalars.json``)."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        data = json.loads(text)
        return [data] if isinstance(data, dict) else []
    except json.JSONDecodeError:
        pass
    records = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict):
            records.append(item)
    return records


def _has_pck(record: dict) -> bool:
    return any(SUMMARY_KEY.search(k) or CATEGORY_KEY.search(k) for k in record)


def find_metrics(path: str) -> Tuple[dict, str]:
    """The metrics of a test run.

    Args:
        path (str): A metrics JSON file, or a work dir (the newest
            ``{timestamp}/{timestamp}.json`` with PCK keys is read).

    Returns:
        tuple[dict, str]: The metrics (the last PCK record of the file) and
        the file read.

    Raises:
        FileNotFoundError: Nothing at ``path``, or no metrics file in it.
        ValueError: The file holds no PCK metrics.
    """
    if osp.isdir(path):
        candidates = sorted(
            glob.glob(osp.join(path, '*', '*.json')),
            key=osp.getmtime,
            reverse=True)
        for file in candidates:
            stem = osp.splitext(osp.basename(file))[0]
            if stem != osp.basename(osp.dirname(file)):
                continue  # not {timestamp}/{timestamp}.json
            records = [r for r in _read_json_or_lines(file) if _has_pck(r)]
            if records:
                return records[-1], file
        raise MissingFileError(
            f'No {{timestamp}}/{{timestamp}}.json with PCK metrics in the '
            f'work dir {path}')
    if not osp.isfile(path):
        raise MissingFileError(f'Metrics file or work dir not found: {path}')
    records = [r for r in _read_json_or_lines(path) if _has_pck(r)]
    if not records:
        raise UserError(f'{path} holds no PCK metrics (keys like PCK, mPCK, '
                        'PCK@0.20/<category>)')
    return records[-1], path


def per_category_pck(
        metrics: dict) -> Tuple[Dict[str, Dict[str, float]], Dict[str, float]]:
    """Split metrics into per-category and overall values (fractions).

    Args:
        metrics (dict): Metric name -> value.

    Returns:
        tuple[dict, dict]: ``{category: {'PCK@0.20': v, ...}}`` in the
        metrics' order, and the overall ``{'PCK@0.05': v, ..., 'mPCK': v,
        'PCK': v}``.
    """
    cats: Dict[str, Dict[str, float]] = OrderedDict()
    overall: Dict[str, float] = OrderedDict()
    for key, value in metrics.items():
        if not is_number(value):
            continue
        match = CATEGORY_KEY.search(key)
        if match:
            thr = f'PCK@{float(match.group(1)):.2f}'
            cats.setdefault(match.group(2), OrderedDict())[thr] = float(value)
            continue
        match = SUMMARY_KEY.search(key)
        if match:
            overall[match.group(1)] = float(value)
    return cats, overall


def table_rows(cats: Dict[str, Dict[str, float]],
               overall: Dict[str, float]) -> Tuple[List[str], List[list]]:
    """Header and rows (percent, 2 decimals): one row per category, then
    the mean over categories and the overall value over all queries."""
    thrs = sorted({t
                   for v in cats.values()
                   for t in v},
                  key=lambda t: float(t[4:]))
    header = ['category'] + thrs
    rows = [[name] + [_pct(vals.get(t)) for t in thrs]
            for name, vals in cats.items()]
    if cats:
        means = []
        for t in thrs:
            vals = [v[t] for v in cats.values() if t in v]
            means.append(_pct(sum(vals) / len(vals)) if vals else '')
        rows.append(['mean over categories'] + means)
    rows.append(['all queries'] + [_pct(overall.get(t)) for t in thrs])
    return header, rows


def _pct(value) -> str:
    return '' if value is None else f'{100 * value:.2f}'


def to_markdown(header: List[str], rows: List[list],
                overall: Dict[str, float]) -> str:
    """A markdown table (values in %) with the overall metrics below."""
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join(['---'] + ['---:'] * (len(header) - 1)) + '|'
    ]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    if overall:
        lines += [
            '', 'Overall (%): ' + ', '.join(f'{k} {_pct(v)}'
                                            for k, v in overall.items())
        ]
    return '\n'.join(lines) + '\n'


def to_csv(header: List[str], rows: List[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def plot_per_category(cats: Dict[str, Dict[str, float]],
                      overall: Dict[str, float],
                      out_file: str,
                      thr: str = None) -> str:
    """Horizontal bar chart of per-category PCK (%), overall as a line.

    Args:
        cats (dict): From :func:`per_category_pck`.
        overall (dict): From :func:`per_category_pck`.
        out_file (str): PNG to write.
        thr (str, optional): Which ``PCK@x`` to plot. Defaults to the
            first per-category threshold.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    if not cats:
        raise UserError('No per-category PCK to plot (EpisodicPCK with '
                        'per_category=True writes PCK@0.20/<category>)')
    thr = thr or next(iter(next(iter(cats.values()))))
    names = [n for n, v in cats.items() if thr in v]
    values = [100 * cats[n][thr] for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.3 * len(names)))
    ax.barh(range(len(names)), values, color='tab:blue')
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel(f'{thr} (%)')
    if thr in overall:
        ax.axvline(
            100 * overall[thr],
            color='tab:red',
            linestyle='--',
            label=f'all queries {100 * overall[thr]:.2f}')
        ax.legend(loc='lower right', fontsize=8)
    for i, v in enumerate(values):
        ax.text(min(v + 1, 88), i, f'{v:.1f}', va='center', fontsize=7)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def write_tables(cats: Dict[str, Dict[str, float]], overall: Dict[str, float],
                 stem: str) -> List[str]:
    """Write ``<stem>.md``, ``<stem>.csv`` and, with per-category values,
    the bar chart ``<stem>.png``.

    Args:
        cats (dict): From :func:`per_category_pck`.
        overall (dict): From :func:`per_category_pck`.
        stem (str): The output path without extension.

    Returns:
        list[str]: The files written.
    """
    header, rows = table_rows(cats, overall)
    with open(stem + '.md', 'w', encoding='utf-8') as f:
        f.write(to_markdown(header, rows, overall))
    with open(stem + '.csv', 'w', encoding='utf-8') as f:
        f.write(to_csv(header, rows))
    written = [stem + '.md', stem + '.csv']
    if cats:
        written.append(plot_per_category(cats, overall, stem + '.png'))
    return written
