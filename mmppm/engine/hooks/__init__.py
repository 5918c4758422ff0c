# Copyright (c) mmppm contributors. All rights reserved.
from .atomic_checkpoint_hook import (AtomicCheckpointHook,
                                     use_atomic_checkpoints)
from .best_checkpoint_link_hook import BestCheckpointLinkHook
from .category_hygiene_hook import CategoryHygieneHook
from .checkpoint_model_hook import CheckpointModelHook
from .cpt_diagnostics_hook import CPTDiagnosticsHook, cpt_parameter_groups
from .episode_visualization_hook import EpisodeVisualizationHook
from .finite_loss_hook import FiniteLossHook
from .random_state_hook import (RandomStateHook, capture_random_states,
                                restore_random_states)

__all__ = [
    'AtomicCheckpointHook', 'BestCheckpointLinkHook', 'CategoryHygieneHook',
    'CheckpointModelHook', 'CPTDiagnosticsHook', 'EpisodeVisualizationHook',
    'FiniteLossHook', 'RandomStateHook', 'capture_random_states',
    'restore_random_states', 'cpt_parameter_groups', 'use_atomic_checkpoints'
]
