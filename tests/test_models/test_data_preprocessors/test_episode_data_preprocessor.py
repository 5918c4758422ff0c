"""EpisodeDataPreprocessor and episode_collate."""
import torch

from mmppm.datasets import episode_collate
from mmppm.models.data_preprocessors import EpisodeDataPreprocessor


def test_bgr_uint8_to_rgb_in_minus_one_one():
    img = torch.zeros(3, 2, 2, dtype=torch.uint8)
    img[0] = 255  # blue in BGR
    out = EpisodeDataPreprocessor()(dict(inputs=[img, img]))['inputs']
    assert out.shape == (2, 3, 2, 2)
    assert torch.all(out[:, 2] == 1.) and torch.all(out[:, :2] == -1.)


def test_episodes_stay_one_stack_each():
    a = torch.zeros(3, 3, 2, 2, dtype=torch.uint8)  # S + Q = 3
    b = torch.full((4, 3, 2, 2), 255, dtype=torch.uint8)
    batch = episode_collate([
        dict(inputs=a, data_samples=['s', 'q', 'q']),
        dict(inputs=b, data_samples=list('sqqq'))
    ])
    assert batch['data_samples'] == [['s', 'q', 'q'], list('sqqq')]
    out = EpisodeDataPreprocessor()(batch)['inputs']
    assert [x.shape[0] for x in out] == [3, 4]
    assert torch.all(out[0] == -1.) and torch.all(out[1] == 1.)
