# Copyright (c) mmppm contributors. All rights reserved.
from .test_time_wrapper import TestTimeDataParallel

__all__ = ['TestTimeDataParallel']
