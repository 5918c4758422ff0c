# Copyright (c) mmppm contributors. All rights reserved.
"""mmpose 1.3.2 under numpy >= 2.5.

``PoseLocalVisualizer`` passes each keypoint's radius as a one-element array
(``radius=np.array([self.radius])``) and its OpenCV backend draws with
``int(radius)``. numpy 2.5 no longer converts an array of ``ndim > 0`` to a
Python scalar (deprecated since 1.25), so every keypoint drawing raised
``TypeError: only 0-dimensional arrays can be converted to Python scalars``.
:func:`patch_opencv_draw_circles` hands the OpenCV backend a 0-d array
instead; with older numpy, and with the matplotlib backend, nothing changes.
:func:`~mmppm.visualization.draw_keypoints` applies it before drawing (not
at ``import mmppm``: ``mmpose.visualization`` imports all of ``mmpose.apis``).
"""
import functools

import numpy as np


def patch_opencv_draw_circles() -> None:
    """Wrap ``OpencvBackendVisualizer.draw_circles`` (once)."""
    from mmpose.visualization.opencv_backend_visualizer import \
        OpencvBackendVisualizer as Vis
    original = Vis.draw_circles
    if getattr(original, '__mmppm_patched__', False):
        return

    @functools.wraps(original)
    def draw_circles(self, center, radius, *args, **kwargs):
        if self.backend == 'opencv' and isinstance(radius, np.ndarray) \
                and radius.size == 1:
            radius = radius.reshape(())
        return original(self, center, radius, *args, **kwargs)

    draw_circles.__mmppm_patched__ = True
    Vis.draw_circles = draw_circles
