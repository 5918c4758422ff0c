# Copyright (c) mmppm contributors. All rights reserved.
"""Print K, the total keypoints over the categories of annotation file(s).

K of a CPT training file is ``model.train_cfg.num_base_keypoints`` (the
number of base prompts). ``tools/train.py`` computes it itself; this tool is
for checking a file or for writing K into a config by hand.

Example:
    python tools/misc/count_base_keypoints.py \
        data/mp100/annotations/mp100_split1_train.json
"""
import argparse

from mmppm.datasets.base_keypoints import count_base_keypoints
from mmppm.engine.cli import run_tool


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_files', nargs='+', help='COCO keypoint JSON')
    args = parser.parse_args(argv)
    for ann_file in args.ann_files:
        k = count_base_keypoints(ann_file)
        print(f'{ann_file}\t{k}' if len(args.ann_files) > 1 else k)


if __name__ == '__main__':
    run_tool(main)
