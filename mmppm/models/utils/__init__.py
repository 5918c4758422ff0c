from .attention_maps import (MAP_REDUCTIONS, aggregate_layer_maps,
                             cross_attn_logits, cross_attn_map, infer_map_hw,
                             logit_sensitivity)
from .diffusion import PREDICTION_TYPES, diffusion_target
from .early_stopping import loss_plateaued
from .keypoint_ops import (argmax_2d, crop_to_image, image_to_crop,
                           prompt_pair_weights, support_crop_keypoints)
from .map_loss_ratio import map_loss_vs_zero

__all__ = [
    'MAP_REDUCTIONS', 'aggregate_layer_maps', 'cross_attn_logits',
    'cross_attn_map', 'PREDICTION_TYPES', 'diffusion_target', 'infer_map_hw',
    'logit_sensitivity', 'loss_plateaued', 'map_loss_vs_zero', 'argmax_2d',
    'crop_to_image', 'image_to_crop', 'prompt_pair_weights',
    'support_crop_keypoints'
]
