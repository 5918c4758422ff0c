# Copyright (c) mmppm contributors. All rights reserved.
from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     use_atomic_checkpoints)
from .best_checkpoint_link_hook import BestCheckpointLinkHook
from .episode_visualization_hook import EpisodeVisualizationHook
from .finite_loss_hook import FiniteLossHook
from .random_state_hook import (RandomStateHook, capture_random_states,
                                restore_random_states)

__all__ = [
    'AtomicCheckpointHook', 'BestCheckpointLinkHook',
    'EpisodeVisualizationHook', 'FiniteLossHook',
    'RandomStateHook', 'capture_random_states', 'restore_random_states',
    'use_atomic_checkpoints'
]
