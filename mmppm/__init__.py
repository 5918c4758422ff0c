# Copyright (c) mmppm contributors. All rights reserved.
"""mmppm: Prompt Pose Matching for category-agnostic pose estimation.

Importing the package registers its components into mmpose's registries.
"""
from .compat.mmcv_ext_stub import install_mmcv_ext_stub

# Must run before anything imports ``mmpose.models`` (which imports mmcv.ops).
install_mmcv_ext_stub()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .utils import register_checkpoint_safe_globals  # noqa: E402

# torch >= 2.6 loads checkpoints with weights_only=True; allow-list exactly
# what mmengine checkpoints hold so load_from / resume work in any Runner.
register_checkpoint_safe_globals()
from .version import __version__  # noqa: E402

__all__ = ['__version__']
