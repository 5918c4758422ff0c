# Copyright (c) mmppm contributors. All rights reserved.
"""Checkpoint every random state a run uses, so a resumed run equals an
uninterrupted one."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


def capture_random_states() -> dict:
    """torch (CPU and CUDA), numpy and Python ``random`` states, as
    tensors and numbers only (loadable with ``weights_only=True``)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, py_state, py_gauss = random.getstate()
    states = dict(
        torch=torch.get_rng_state(),
        numpy=dict(
            kind=kind,
            keys=torch.from_numpy(keys.astype(np.int64)),
            pos=int(pos),
            has_gauss=int(has_gauss),
            gauss=float(gauss)),
        python=dict(
            version=version, state=torch.tensor(py_state), gauss=py_gauss))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def restore_random_states(states: dict, numpy: bool = True) -> None:
    """Inverse of :func:`capture_random_states` (numpy's state too if
    ``numpy``)."""
    torch.set_rng_state(states['torch'])
    if numpy:
        n = states['numpy']
        np.random.set_state((n['kind'], n['keys'].numpy().astype(np.uint32),
                             n['pos'], n['has_gauss'], n['gauss']))
    p = states['python']
    random.setstate(
        (p['version'], tuple(int(v) for v in p['state']), p['gauss']))
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random states in each checkpoint; restore them on resume.

    mmengine restores parameters, optimiser, scheduler and iteration but
    not the random generators, so after a resume the noise and timesteps
    drawn by the model differ from an uninterrupted run. The torch (CPU,
    CUDA) and Python states are restored at the first iteration after the
    resume. numpy's is not: mmengine's train loop advances the dataloader
    past the iterations already done, replaying the data pipeline's numpy
    draws (mmpose's augmentations) from the seed, and has already fetched
    the next batch when the first hook runs, so the replayed state is the
    right one (restoring the saved one would rewind that batch's draws).
    Model code in mmppm draws from torch only.

    Validation leaves the random states as it found them (all of them,
    restored in ``after_val``), and a checkpoint saved during validation
    records the states training continues with (those of ``before_val``):
    mmengine saves an iteration's checkpoint before its validation and,
    when the best score improves (``save_best``), saves it again during
    validation, after the val loader's seed and the model's noise were
    drawn. Either way a resumed run trained on other draws than the
    uninterrupted one (docs/reliability.md).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._before_val: Optional[dict] = None

    def before_val(self, runner) -> None:
        self._before_val = capture_random_states()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            restore_random_states(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        states = self._before_val  # saved during validation
        checkpoint.setdefault('meta', {})['random_states'] = (
            capture_random_states() if states is None else states)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('meta', {}).get('random_states')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is not None:
            restore_random_states(self._pending, numpy=False)
            self._pending = None
