from .attn_processors import AttentionStore, CrossAttnMapProcessor
from .sd_cross_attn import SDCrossAttnBackbone

__all__ = ['AttentionStore', 'CrossAttnMapProcessor', 'SDCrossAttnBackbone']
