from .ppm_estimator import PPMEstimator
from .support_copy import SupportCopyBaseline

__all__ = ['PPMEstimator', 'SupportCopyBaseline']
