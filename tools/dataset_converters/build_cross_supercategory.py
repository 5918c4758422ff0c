# Copyright (c) mmppm contributors. All rights reserved.
"""Build MP-100 cross super-category annotation files.

Merges the five MP-100 splits (``mp100_split{1..5}_{train,val,test}.json``,
images and annotations deduplicated by id) and writes
``<out-dir>/mp100_cross_<held-out>_{train,val,test}.json``: test = the
held-out super-category, val = ``--val`` (default insect), train = the
other six. See docs/dataset_prep.md.

Example:
    python tools/dataset_converters/build_cross_supercategory.py \
        --ann-dir data/mp100/annotations --held-out vehicle
"""
import argparse
import json
from pathlib import Path

from mmppm.datasets.cross_supercategory import (DEFAULT_VAL_SUPERCATEGORY,
                                                HELD_OUT_CHOICES,
                                                build_cross_supercategory,
                                                load_supercategory_table)
from mmppm.engine.cli import run_tool, writable_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__)
    parser.add_argument('--ann-dir', default='data/mp100/annotations')
    parser.add_argument(
        '--ann-files',
        nargs='+',
        help='split files to merge (default: the 15 files of --ann-dir)')
    parser.add_argument('--held-out', required=True, choices=HELD_OUT_CHOICES)
    parser.add_argument('--val', default=DEFAULT_VAL_SUPERCATEGORY)
    parser.add_argument(
        '--table',
        help='JSON {category name: super-category} to use '
        'instead of the built-in table')
    parser.add_argument('--out-dir', help='output folder (default: --ann-dir)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    ann_dir = Path(args.ann_dir)
    writable_dir(str(args.out_dir or ann_dir), '--out-dir')
    ann_files = args.ann_files or [
        str(ann_dir / f'mp100_split{i}_{s}.json') for i in range(1, 6)
        for s in ('train', 'val', 'test')
    ]
    splits = build_cross_supercategory(
        ann_files,
        held_out=args.held_out,
        val=args.val,
        table=load_supercategory_table(args.table))
    out_dir = Path(args.out_dir or ann_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for role, data in splits.items():
        path = out_dir / f'mp100_cross_{args.held_out}_{role}.json'
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(data, f)
        print(f'{role}: {path} ({len(data["categories"])} categories, '
              f'{len(data["annotations"])} annotations)')


if __name__ == '__main__':
    run_tool(main)
