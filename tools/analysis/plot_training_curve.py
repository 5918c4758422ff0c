# Copyright (c) mmppm contributors. All rights reserved.
"""Plot training losses and validation PCK from an mmengine work dir.

Reads ``vis_data/scalars.json`` (written by ``LocalVisBackend``); the
arithmetic is in :mod:`mmppm_analysis.training_curve`.

Example:
    python tools/analysis/plot_training_curve.py work_dirs/ppm_cpt_split1 \
        --out training_curve.png
"""
import argparse
import os.path as osp

from mmppm_analysis.training_curve import (find_scalars, load_scalars,
                                           plot_curves, series)

from mmppm.engine.cli import run_tool, writable_dir

__all__ = ['find_scalars', 'load_scalars', 'plot_curves', 'series']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('path', help='work dir or a scalars.json file')
    parser.add_argument('--out', default='training_curve.png')
    parser.add_argument(
        '--loss-keys', nargs='+', default=['loss', 'loss_map', 'loss_dm'])
    parser.add_argument('--val-keys', nargs='+', default=['PCK'])
    parser.add_argument('--title', default='')
    args = parser.parse_args(argv)
    scalars = find_scalars(args.path)
    writable_dir(osp.dirname(osp.abspath(args.out)), '--out folder')
    train, val = load_scalars(scalars, args.val_keys[0])
    drawn = plot_curves(train, val, args.out, args.loss_keys, args.val_keys,
                        args.title)
    print(f'{args.out}: ' + ', '.join(f'{k} ({n} points)'
                                      for k, n in drawn.items()))


if __name__ == '__main__':
    run_tool(main)
