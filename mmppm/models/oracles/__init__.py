# Copyright (c) mmppm contributors. All rights reserved.
"""Oracle diffusion models: SD with a known answer (docs/oracles.md).

Diagnostics, kept outside the production backbone: ``OracleSDBackbone``
(the backbone with the oracle's codes in its latents) and
``OracleMapProcessor`` (its attention processor), built on the code fields
of ``PositionalOracle`` and ``PartOracle``.
"""
from .oracle_backbone import OracleSDBackbone
from .oracle_map_processor import OracleMapProcessor, OracleScene
from .part_oracle import PartOracle
from .positional_oracle import PositionalOracle

__all__ = [
    'OracleMapProcessor', 'OracleSDBackbone', 'OracleScene', 'PartOracle',
    'PositionalOracle'
]
