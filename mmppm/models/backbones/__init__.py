from .attn_processors import AttentionStore, CrossAttnMapProcessor
from .sd_cross_attn import LayerQueries, SDCrossAttnBackbone

__all__ = [
    'AttentionStore', 'CrossAttnMapProcessor', 'LayerQueries',
    'SDCrossAttnBackbone'
]
