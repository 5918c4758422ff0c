# Copyright (c) mmppm contributors. All rights reserved.
"""Validation PCK and fit PCK of several CPT runs against a reference.

One line per run (``LABEL=WORK_DIR``; every session of a resumed run is
read), a dashed line per reference value (``LABEL=PCK``, e.g. plain PPM on
the same validation episodes): the figure of docs/cpt.md.

Example:
    python tools/analysis/cpt_study_figure.py \
        --run "paper recipe=work_dirs/cpt_study/paper" \
        --run "P^k at lr 0.1=work_dirs/cpt_study/paper_lr" \
        --reference "PPM=75.7" --out docs/figures/cpt_toy_study.png

A thin CLI over :mod:`mmppm_analysis.training_curve`.
"""
import argparse
import os.path as osp

from mmppm_analysis.training_curve import load_run, plot_study

from mmppm.engine.cli import run_tool, writable_dir
from mmppm.utils.errors import UserError


def labelled(text: str, what: str):
    """``'LABEL=VALUE'`` -> ``(LABEL, VALUE)``."""
    label, sep, value = text.partition('=')
    if not sep or not label or not value:
        raise UserError(f'{what} {text!r} must be LABEL=VALUE')
    return label, value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--run',
        action='append',
        required=True,
        help='LABEL=WORK_DIR (repeat)')
    parser.add_argument(
        '--reference',
        action='append',
        default=[],
        help='LABEL=PCK in %% (repeat)')
    parser.add_argument('--out', default='cpt_study.png')
    args = parser.parse_args(argv)
    runs = [labelled(r, '--run') for r in args.run]
    refs = []
    for text in args.reference:
        label, value = labelled(text, '--reference')
        try:
            refs.append((label, float(value)))
        except ValueError:
            raise UserError(f'--reference {text!r}: {value!r} is not a '
                            'number') from None
    loaded = [(label, load_run(work_dir)[1]) for label, work_dir in runs]
    writable_dir(osp.dirname(osp.abspath(args.out)), '--out folder')
    plot_study(loaded, refs, args.out)
    print(f'{args.out}: ' + ', '.join(f'{label} ({len(val)} validations)'
                                      for label, val in loaded))


if __name__ == '__main__':
    run_tool(main)
