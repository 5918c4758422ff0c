# Copyright (c) mmppm contributors. All rights reserved.
from .pose_drawing import (crop_image, draw_keypoints, draw_maps_grid,
                           keypoint_colors, save_rgb, side_by_side,
                           skeleton_zero_based)

__all__ = [
    'crop_image', 'draw_keypoints', 'draw_maps_grid', 'keypoint_colors',
    'save_rgb', 'side_by_side', 'skeleton_zero_based'
]
