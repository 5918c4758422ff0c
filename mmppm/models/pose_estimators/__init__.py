from .base import BaseEpisodicEstimator
from .feature_matching import FeatureMatchingBaseline
from .ppm_estimator import PPMEstimator
from .support_copy import SupportCopyBaseline

__all__ = [
    'BaseEpisodicEstimator', 'FeatureMatchingBaseline', 'PPMEstimator',
    'SupportCopyBaseline'
]
