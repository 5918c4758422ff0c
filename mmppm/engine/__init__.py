# Copyright (c) mmppm contributors. All rights reserved.
from .hooks import *  # noqa: F401,F403
from .model_wrappers import *  # noqa: F401,F403
from .runner import *  # noqa: F401,F403
