# Copyright (c) mmppm contributors. All rights reserved.
"""Query-map fusions of PPM (``model.fusion``, beyond the paper): registered
modules that combine the prompts' maps with another cue before decoding;
a list of them is applied in order."""
from .feature_similarity_fusion import FeatureSimilarityFusion
from .fusion_sequence import FusionSequence, build_fusion
from .support_layout_prior import SupportLayoutPrior

__all__ = [
    'FeatureSimilarityFusion', 'FusionSequence', 'SupportLayoutPrior',
    'build_fusion'
]
