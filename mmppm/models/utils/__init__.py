from .attention_maps import (MAP_REDUCTIONS, aggregate_layer_maps,
                             cross_attn_map, infer_map_hw)
from .keypoint_ops import argmax_2d, crop_to_image, pair_losses, per_prompt_mean

__all__ = [
    'MAP_REDUCTIONS', 'aggregate_layer_maps', 'cross_attn_map', 'infer_map_hw',
    'argmax_2d', 'crop_to_image', 'pair_losses', 'per_prompt_mean'
]
