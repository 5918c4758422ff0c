import pytest

from mmppm.models.utils import loss_plateaued


@pytest.mark.parametrize(
    'losses,patience,rel,expected',
    [
        ([], 1, 0.01, False),
        ([1.0], 1, 0.01, False),  # needs patience + 1 losses
        ([1.0, 0.5], 1, 0.01, False),  # 50% better
        ([1.0, 0.995], 1, 0.01, True),  # 0.5% better < 1%
        ([1.0, 0.99], 1, 0.01, True),  # exactly 1%: not more than 1%
        ([1.0, 0.5, 0.499, 0.498], 2, 0.01, True),
        ([1.0, 0.5, 0.45, 0.498], 2, 0.01, False),  # 0.45 is 10% better
        ([1.0, 0.5, 0.6, 0.7], 2, 0.0, True),  # worse: plateau at rel 0
        ([1.0, 0.5, 0.6, 0.49], 2, 0.0, False),  # any gain counts at rel 0
        ([0.3, 1.0, 0.9, 0.8], 3, 0.01, True),  # best-ever came first
    ])
def test_loss_plateaued_known_answers(losses, patience, rel, expected):
    assert loss_plateaued(losses, patience, rel) is expected
