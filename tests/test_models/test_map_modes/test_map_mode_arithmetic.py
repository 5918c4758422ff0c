"""Map modes: chunk arithmetic (known answers), building from the registry
and binding (their UNet-call counts:
tests/test_analysis/test_unet_calls.py)."""
import pytest

from mmppm.models.map_modes import (CachedMaps, ExactMaps, SharedContextMaps,
                                    chunks, num_chunks)


@pytest.mark.parametrize('n,size,expected', [(0, 4, 0), (1, 4, 1), (4, 4, 1),
                                             (5, 4, 2), (12, 5, 3),
                                             (17, 1, 17)])
def test_num_chunks_known_answers(n, size, expected):
    assert num_chunks(n, size) == expected
    assert len(list(chunks(n, size))) == expected


@pytest.mark.parametrize('mode', [CachedMaps, ExactMaps, SharedContextMaps])
def test_modes_are_registered_and_built_from_config(mode):
    from mmpose.registry import MODELS
    built = MODELS.build(dict(type=mode.__name__, max_batch=3))
    assert type(built) is mode and built.max_batch == 3
    assert mode().max_batch == 64  # the default, written once


def test_bind_gives_a_bound_copy():
    mode = ExactMaps(max_batch=2)
    bound = mode.bind('backbone', 'context')
    assert (bound.backbone, bound.context, bound.max_batch) == ('backbone',
                                                                'context', 2)
    assert mode.backbone is None  # the configured mode stays unbound
    with bound.autocast('cpu'):  # default: a no-op context
        pass


def test_bad_max_batch_names_the_config_path():
    with pytest.raises(
            ValueError,
            match=(
                r'^model.fitter.map_mode.max_batch must be an integer >= 1, '
                r'got 0$')):
        ExactMaps(max_batch=0)
