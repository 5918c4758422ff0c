# Copyright (c) mmppm contributors. All rights reserved.
"""Per-category PCK table (markdown + CSV) and bar chart of a test run.

Usage:
    python tools/analysis/metrics_table.py WORK_DIR_OR_JSON [--out-dir DIR]

WORK_DIR_OR_JSON: the ``--work-dir`` of ``tools/test.py`` (its newest
``{timestamp}/{timestamp}.json`` is read) or a metrics file (``--out`` of
``tools/test.py``). Writes ``pck_per_category.md``, ``pck_per_category.csv``
and ``pck_per_category.png`` to ``--out-dir`` (default: beside the metrics
file). A thin CLI over :mod:`mmppm_analysis.metrics_table`.
"""
import argparse
import os.path as osp

from mmppm_analysis.metrics_table import (find_metrics, per_category_pck,
                                          table_rows, to_markdown,
                                          write_tables)

from mmppm.engine.cli import run_tool, writable_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path', metavar='WORK_DIR_OR_JSON')
    parser.add_argument('--out-dir', default=None)
    parser.add_argument(
        '--name', default='pck_per_category', help='output file stem')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    metrics, source = find_metrics(args.path)
    cats, overall = per_category_pck(metrics)
    out_dir = writable_dir(
        args.out_dir or osp.dirname(osp.abspath(source)), '--out-dir')
    written = write_tables(cats, overall, osp.join(out_dir, args.name))
    print(f'metrics from {source}')
    print(to_markdown(*table_rows(cats, overall), overall))
    for path in written:
        print(f'wrote {path}')
    return written


if __name__ == '__main__':
    run_tool(main)
