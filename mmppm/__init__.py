# Copyright (c) mmppm contributors. All rights reserved.
"""mmppm: Prompt Pose Matching for category-agnostic pose estimation.

Importing the package registers its components into mmpose's registries.
"""
import os as _os

# OpenCV's own pixel cap, the image decoder's second wall, is read when cv2
# is loaded: set it before anything imports cv2 (here, without importing
# mmppm.utils, which loads cv2). The same limit as
# mmppm.utils.image_decoder.max_image_pixels (docs/reliability.md).
_limit = _os.environ.get('MMPPM_MAX_IMAGE_PIXELS', '')
_os.environ.setdefault('OPENCV_IO_MAX_IMAGE_PIXELS',
                       _limit if _limit.isdigit() else '40000000')

from .compat.mmcv_ext_stub import install_mmcv_ext_stub  # noqa: E402

# Must run before anything imports ``mmpose.models`` (which imports mmcv.ops).
install_mmcv_ext_stub()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .compat import checkpoint_compat  # noqa: E402

# torch >= 2.6 loads checkpoints with weights_only=True; allow-list exactly
# what mmengine checkpoints hold so load_from / resume work in any Runner.
checkpoint_compat.register_checkpoint_safe_globals()
from .version import __version__  # noqa: E402

__all__ = ['__version__']
