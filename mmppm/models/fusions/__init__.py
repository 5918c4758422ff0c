# Copyright (c) mmppm contributors. All rights reserved.
"""Query-map fusions of PPM (``model.fusion``, beyond the paper): registered
modules that combine the prompts' maps with another cue before decoding."""
from .feature_similarity_fusion import FeatureSimilarityFusion

__all__ = ['FeatureSimilarityFusion']
