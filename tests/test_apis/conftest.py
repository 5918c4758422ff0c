# Copyright (c) mmppm contributors. All rights reserved.
from cape_helpers import one_thread, toy_data  # noqa: F401  (fixtures)
