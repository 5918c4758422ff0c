from .ppm_estimator import PPMEstimator

__all__ = ['PPMEstimator']
