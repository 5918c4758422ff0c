# Copyright (c) mmppm contributors. All rights reserved.
"""Generate the toy MP-100-format dataset (see docs/dataset_prep.md).

Example:
    python tools/dataset_converters/generate_toy_mp100.py --out-dir data/toy_mp100
"""
import argparse

from mmppm.datasets import generate_toy_mp100
from mmppm.utils.arg_types import positive_int
from mmppm.utils.tool_helpers import run_tool, writable_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='data/toy_mp100')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-categories',
                        type=positive_int,
                        nargs=3,
                        default=(8, 2, 3),
                        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--instances-per-category', type=positive_int,
                        default=20)
    parser.add_argument('--num-keypoints',
                        type=positive_int,
                        nargs=2,
                        default=(5, 20),
                        metavar=('MIN', 'MAX'))
    parser.add_argument('--force',
                        action='store_true',
                        help='regenerate even if a matching dataset exists, '
                        'and overwrite annotation files it did not write')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    writable_dir(args.out_dir, '--out-dir')
    files = generate(args)  # an annotation file it did not write: one line
    for split, path in files.items():
        print(f'{split}: {path}')


def generate(args):
    return generate_toy_mp100(
        args.out_dir,
        seed=args.seed,
        num_categories=tuple(args.num_categories),
        instances_per_category=args.instances_per_category,
        num_keypoints=tuple(args.num_keypoints),
        force=args.force)


if __name__ == '__main__':
    run_tool(main)
