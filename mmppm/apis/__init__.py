# Copyright (c) mmppm contributors. All rights reserved.
from .inference import (build_cape_episode, inference_cape, init_cape_model,
                        load_image, load_support_keypoints, read_coco_support)

__all__ = [
    'build_cape_episode', 'inference_cape', 'init_cape_model', 'load_image',
    'load_support_keypoints', 'read_coco_support'
]
