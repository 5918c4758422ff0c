# Copyright (c) mmppm contributors. All rights reserved.
from .episode_visualization_hook import EpisodeVisualizationHook

__all__ = ['EpisodeVisualizationHook']
