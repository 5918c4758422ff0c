# Copyright (c) mmppm contributors. All rights reserved.
from .prediction_cache import PredictionWriter, read_prediction_records
from .resumable_test_loop import (ResumableTestLoop, batch_episode_ids,
                                  config_cache_name, group_outputs_by_episode,
                                  iter_data_elements)

__all__ = [
    'PredictionWriter', 'read_prediction_records', 'ResumableTestLoop',
    'batch_episode_ids', 'config_cache_name', 'group_outputs_by_episode',
    'iter_data_elements'
]
