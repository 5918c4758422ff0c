# Copyright (c) mmppm contributors. All rights reserved.
from .pose_drawing import (clamp_to_image, crop_image, draw_keypoints,
                           draw_maps_grid, keypoint_colors, label_panel,
                           save_rgb, side_by_side, skeleton_zero_based)

__all__ = [
    'clamp_to_image', 'crop_image', 'draw_keypoints', 'draw_maps_grid',
    'keypoint_colors', 'label_panel', 'save_rgb', 'side_by_side',
    'skeleton_zero_based'
]
