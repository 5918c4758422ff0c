"""mmpose's OpenCV keypoint drawing under numpy >= 2.5
(mmppm/compat/mmpose_drawing.py)."""
import numpy as np
from mmpose.visualization import PoseLocalVisualizer

from mmppm.compat.mmpose_drawing import patch_opencv_draw_circles


def test_opencv_circle_with_one_element_radius():
    patch_opencv_draw_circles()
    patch_opencv_draw_circles()  # idempotent
    # mmpose passes radius=np.array([r]); numpy 2.5 refuses int() of it
    vis = PoseLocalVisualizer(name='mmppm_test_compat', backend='opencv')
    vis.set_image(np.zeros((21, 21, 3), np.uint8))
    vis.draw_circles(
        np.array([10., 10.]), radius=np.array([3]), face_colors=(255, 0, 0))
    img = vis.get_image()
    assert img[10, 10].tolist() == [255, 0, 0]
    assert img[10, 14].tolist() == [0, 0, 0]  # radius 3: (14, 10) outside
