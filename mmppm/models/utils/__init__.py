from .attention_maps import (MAP_REDUCTIONS, aggregate_layer_maps,
                             cross_attn_logits, cross_attn_map, infer_map_hw,
                             logit_sensitivity)
from .diffusion import PREDICTION_TYPES, diffusion_target
from .early_stopping import loss_plateaued
from .keypoint_ops import (argmax_2d, crop_to_image, image_to_crop,
                           prompt_pair_weights)
from .map_losses import (balanced_mse_map_loss, map_loss_vs_zero, mse_map_loss,
                         normalized_ce_map_loss)

__all__ = [
    'MAP_REDUCTIONS', 'aggregate_layer_maps', 'cross_attn_logits',
    'cross_attn_map', 'PREDICTION_TYPES', 'diffusion_target', 'infer_map_hw',
    'logit_sensitivity', 'loss_plateaued', 'balanced_mse_map_loss',
    'map_loss_vs_zero', 'mse_map_loss', 'normalized_ce_map_loss', 'argmax_2d',
    'crop_to_image', 'image_to_crop', 'prompt_pair_weights'
]
