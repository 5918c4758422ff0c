# Copyright (c) mmppm contributors. All rights reserved.
"""Oracle diffusion models: SD with a known answer (docs/oracles.md)."""
from .part_oracle import PartOracle
from .positional_oracle import PositionalOracle

__all__ = ['PartOracle', 'PositionalOracle']
