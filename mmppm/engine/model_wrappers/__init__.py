# Copyright (c) mmppm contributors. All rights reserved.
from .episode_data_parallel import TestTimeDataParallel

__all__ = ['TestTimeDataParallel']
