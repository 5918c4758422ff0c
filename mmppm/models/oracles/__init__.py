# Copyright (c) mmppm contributors. All rights reserved.
"""Oracle diffusion models: SD with a known answer (docs/oracles.md).

Diagnostics, kept outside the production backbone: ``OracleSDBackbone``
(the backbone with the oracle's codes in its latents and, through torch
module hooks, in its recorded queries) and ``OracleDataPreprocessor``
(each image's keypoints as extra input channels), built on the code fields
of ``PositionalOracle`` and ``PartOracle``.
"""
from .oracle_backbone import OracleSDBackbone
from .oracle_data_preprocessor import OracleDataPreprocessor
from .part_oracle import PartOracle
from .positional_oracle import PositionalOracle

__all__ = [
    'OracleDataPreprocessor', 'OracleSDBackbone', 'PartOracle',
    'PositionalOracle'
]
