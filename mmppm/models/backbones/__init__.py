from .attn_processors import AttentionStore, CrossAttnMapProcessor
from .backbone_args import LayerQueries
from .sd_cross_attn import SDCrossAttnBackbone

__all__ = [
    'AttentionStore', 'CrossAttnMapProcessor', 'LayerQueries',
    'SDCrossAttnBackbone'
]
