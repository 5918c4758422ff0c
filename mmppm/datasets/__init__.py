# Copyright (c) mmppm contributors. All rights reserved.
from .collate import episode_collate
from .cross_supercategory import (MP100_SUPERCATEGORY_TABLE,
                                  build_cross_supercategory,
                                  load_supercategory_table, merge_coco,
                                  split_by_supercategory)
from .episode import pack_episode
from .mp100_dataset import MP100Dataset, load_coco_json
from .toy_world import generate_toy_mp100

__all__ = [
    'MP100Dataset', 'MP100_SUPERCATEGORY_TABLE', 'episode_collate',
    'build_cross_supercategory', 'generate_toy_mp100', 'load_coco_json',
    'load_supercategory_table', 'merge_coco', 'pack_episode',
    'split_by_supercategory'
]
