# Copyright (c) mmppm contributors. All rights reserved.
"""Collation of episodes."""
from typing import List, Sequence

from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def episode_collate(data_batch: Sequence[dict]) -> dict:
    """Collate episodes without transposing their sample lists.

    mmengine's ``pseudo_collate`` zips sequences element-wise, which would
    turn a batch of episodes (each a list of S + Q samples) into lists of
    "i-th sample of every episode". Episodes keep their own lists here.

    Args:
        data_batch (Sequence[dict]): Samples from
            :class:`mmppm.datasets.MP100Dataset`: episodes
            (``inputs`` ``[S + Q, 3, H, W]``, ``data_samples`` a list) or, in
            training mode, single instances (delegated to ``pseudo_collate``).

    Returns:
        dict: ``inputs`` (list of per-episode tensors) and ``data_samples``
        (list of per-episode sample lists).
    """
    if not data_batch or not isinstance(data_batch[0].get('data_samples'),
                                        (list, tuple)):
        return pseudo_collate(data_batch)
    inputs: List = [d['inputs'] for d in data_batch]
    samples: List[list] = [list(d['data_samples']) for d in data_batch]
    return dict(inputs=inputs, data_samples=samples)
