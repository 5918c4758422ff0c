# Copyright (c) mmppm contributors. All rights reserved.
"""Generate the toy MP-100-format dataset (see docs/dataset_prep.md).

Examples:
    python tools/dataset_converters/generate_toy_mp100.py \
        --out-dir data/toy_mp100
    # one MP-100 split's shape (70 / 10 / 20 categories, 8-20 keypoints),
    # the toy benchmark's data (docs/toy_benchmark.md)
    python tools/dataset_converters/generate_toy_mp100.py --preset mp100 \\
        --seed 1 --out-dir data/toy_mp100_bench/seed1
"""
import argparse

from mmppm.datasets import generate_toy_mp100
from mmppm.datasets.toy_world.toy_mp100 import PRESETS
from mmppm.engine.cli import run_tool, writable_dir
from mmppm.engine.cli.arg_types import positive_int


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='data/toy_mp100')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--preset',
        default='toy',
        choices=sorted(PRESETS),
        help="category counts, instances and keypoint "
        "range: 'toy' (8 / 2 / 3 categories, make toy's) or "
        "'mp100' (70 / 10 / 20, one MP-100 split's shape); "
        'the options below override single values')
    parser.add_argument(
        '--num-categories',
        type=positive_int,
        nargs=3,
        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--instances-per-category', type=positive_int)
    parser.add_argument(
        '--num-keypoints', type=positive_int, nargs=2, metavar=('MIN', 'MAX'))
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if a matching dataset exists, '
        'and overwrite annotation files it did not write')
    return parser.parse_args(argv)


def generate(args):
    """The preset's values, with the options given on the command line
    replacing single ones."""
    values = dict(PRESETS[args.preset])
    for key in values:
        given = getattr(args, key)
        if given is not None:
            values[key] = tuple(given) if isinstance(given, list) else given
    return generate_toy_mp100(
        args.out_dir, seed=args.seed, force=args.force, **values)


def main(argv=None):
    args = parse_args(argv)
    writable_dir(args.out_dir, '--out-dir')
    files = generate(args)  # an annotation file it did not write: one line
    for split, path in files.items():
        print(f'{split}: {path}')


if __name__ == '__main__':
    run_tool(main)
