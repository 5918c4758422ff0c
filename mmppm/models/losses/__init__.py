# Copyright (c) mmppm contributors. All rights reserved.
"""Map-matching losses of the prompt fit, built from ``head.loss``."""
from .map_losses import (BalancedMSEMapLoss, MapLoss, MSEMapLoss,
                         NormalizedCEMapLoss)

__all__ = [
    'BalancedMSEMapLoss', 'MapLoss', 'MSEMapLoss', 'NormalizedCEMapLoss'
]
