# Copyright (c) mmppm contributors. All rights reserved.
"""Side projects built on mmppm, one self-contained folder each (its README,
configs, code and tools), imported through ``custom_imports``, as mmpose's
``projects/``."""
