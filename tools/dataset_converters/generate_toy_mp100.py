# Copyright (c) mmppm contributors. All rights reserved.
"""Generate the toy MP-100-format dataset (see docs/dataset_prep.md).

Examples:
    python tools/dataset_converters/generate_toy_mp100.py \
        --out-dir data/toy_mp100
    # one MP-100 split's shape (70 / 10 / 20 categories, 8-20 keypoints),
    # the toy benchmark's data (docs/toy_benchmark.md)
    python tools/dataset_converters/generate_toy_mp100.py --preset mp100 \\
        --seed 1 --out-dir data/toy_mp100_bench/seed1
    # the look-alike world (twins, colour morphs, unmarked joints), with
    # its shares of each kind of keypoint
    python tools/dataset_converters/generate_toy_mp100.py \\
        --preset lookalike --seed 0 --out-dir data/toy_lookalike_bench/seed0
"""
import argparse

from mmppm.datasets import generate_toy_mp100
from mmppm.datasets.toy_world.toy_mp100 import PRESETS, WORLDS
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
        "range: 'toy' (8 / 2 / 3 categories, make toy's), "
        "'mp100' (70 / 10 / 20, one MP-100 split's shape) or "
        "'lookalike' (the same shape in the look-alike world); "
        'the options below override single values')
    parser.add_argument(
        '--num-categories',
        type=positive_int,
        nargs=3,
        metavar=('TRAIN', 'VAL', 'TEST'))
    parser.add_argument('--instances-per-category', type=positive_int)
    parser.add_argument(
        '--world',
        choices=WORLDS,
        help="'blobs' (every keypoint a blob of its own look) or "
        "'lookalike' (mirror twins, colour morphs, unmarked joints)")
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
    values.setdefault('world', 'blobs')
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
    if (args.world or PRESETS[args.preset].get('world')) == 'lookalike':
        print_shares(files)


def print_shares(files):
    """The look-alike world's shares over all splits (docs/toy_benchmark.md,
    "The look-alike world")."""
    import json

    from mmppm.datasets.toy_world.lookalike import kind_shares
    categories, annotations = [], []
    for path in files.values():
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
        categories += data['categories']
        annotations += data['annotations']
    shares = kind_shares(categories, annotations)
    kinds = ', '.join(f'{k} {100 * v:.1f} %'
                      for k, v in shares['kinds'].items())
    low, mean = shares['morphs_per_category']
    print(f"{shares['num_categories']} categories; keypoints by kind: "
          f"{kinds}; in a left/right pair {100 * shares['twins']:.1f} % "
          f"(at least {100 * shares['min_twins']:.1f} % per category); "
          f'colourings shown per category: at least {low}, {mean:.2f} on '
          'average')


if __name__ == '__main__':
    run_tool(main)
