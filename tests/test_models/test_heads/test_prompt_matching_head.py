"""PromptMatchingHead: pair-weighted loss and decoding, known answers."""
import numpy as np
import pytest
import torch

from mmppm.models.heads import PromptMatchingHead
from mmppm.models.losses import NormalizedCEMapLoss


def test_loss_is_the_pair_weighted_sum():
    head = PromptMatchingHead(loss_dm_weight=2.0)
    maps = torch.zeros(2, 4, 4)
    targets = torch.ones(2, 4, 4)  # MSE 1 per pair
    dm_pred = torch.zeros(2, 1, 2, 2)
    dm_target = torch.full((2, 1, 2, 2), 3.)  # MSE 9 per pair
    losses = head.loss(maps, targets, dm_pred, dm_target,
                       torch.tensor([0.5, 0.25]))
    assert float(losses['loss_map']) == pytest.approx(0.75)
    assert float(losses['loss_dm']) == pytest.approx(2.0 * 9 * 0.75)
    # the diffusion term can have its own weights (one per image)
    losses = head.loss(
        maps,
        targets,
        dm_pred[:1],
        dm_target[:1],
        torch.tensor([0.5, 0.25]),
        dm_weights=torch.ones(1))
    assert float(losses['loss_dm']) == pytest.approx(18.)
    assert 'loss_dm' not in PromptMatchingHead(loss_dm_weight=0.).loss(
        maps, targets, dm_pred, dm_target, torch.ones(2))


def test_argmax_decoding_and_scores():
    maps = torch.zeros(1, 2, 8, 10)
    maps[0, 0, 3, 7] = 0.9
    maps[0, 1, 6, 1] = 0.4
    kpts, scores = PromptMatchingHead().decode(maps)
    np.testing.assert_array_equal(kpts[0], [[7, 3], [1, 6]])
    np.testing.assert_allclose(scores[0], [0.9, 0.4])


@pytest.mark.parametrize('decoder', ['QuarterOffsetDecoder', 'DarkDecoder'])
def test_subpixel_refinement_moves_towards_the_heavier_side(decoder):
    ys, xs = np.mgrid[0:16, 0:16]
    # a Gaussian centred between pixels 7 and 8 in x: argmax 7 or 8,
    # refinement lands between them
    g = np.exp(-((xs - 7.4)**2 + (ys - 5.0)**2) / (2 * 1.5**2))
    maps = torch.from_numpy(g[None, None].astype(np.float32))
    kpts, _ = PromptMatchingHead(decoder=dict(type=decoder)).decode(maps)
    assert 7.0 < kpts[0, 0, 0] < 7.7
    assert kpts[0, 0, 1] == pytest.approx(5.0, abs=0.2)


def test_bad_head_config():
    with pytest.raises(
            ValueError,
            match=r"^model.head.decoder.type='Cubic' is not a registered "
            r'MapDecoder'):
        PromptMatchingHead(decoder=dict(type='Cubic'))
    with pytest.raises(
            ValueError,
            match=(r"^model.head.loss.type='L1' is not a registered MapLoss "
                   r"\(valid: \['BalancedMSEMapLoss', 'MSEMapLoss', "
                   r"'NormalizedCEMapLoss'\]\)$")):
        PromptMatchingHead(loss=dict(type='L1'))
    with pytest.raises(
            ValueError,
            match=(r"^model.head.loss \(MSEMapLoss\) has no argument "
                   r"'weight' \(valid: \)$")):
        PromptMatchingHead(loss=dict(type='MSEMapLoss', weight=2))
    with pytest.raises(ValueError, match='loss_dm_weight'):
        PromptMatchingHead(loss_dm_weight=-1)


def test_head_builds_its_loss_from_config():
    head = PromptMatchingHead(loss=dict(type='NormalizedCEMapLoss'))
    assert isinstance(head.loss_module, NormalizedCEMapLoss)
    assert not list(head.state_dict())  # no weights: checkpoints unchanged
