from .attention_maps import (MAP_REDUCTIONS, aggregate_layer_maps,
                             cross_attn_map, infer_map_hw)

__all__ = [
    'MAP_REDUCTIONS', 'aggregate_layer_maps', 'cross_attn_map', 'infer_map_hw'
]
