# Copyright (c) mmppm contributors. All rights reserved.
"""Stop training at the first non-finite loss, before anything is saved."""
import math
from typing import Optional

from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise at the first iteration whose logged losses are not finite.

    Runs after every training iteration with a priority above
    ``CheckpointHook``'s, so a non-finite model is never checkpointed and
    ``last_checkpoint`` keeps pointing at the last good one. (mmdet's
    ``CheckInvalidLossHook`` checks only ``loss``, every 50 iterations, by
    ``assert``.)

    Raises:
        FloatingPointError: Naming the iteration, every loss term and the
            last good checkpoint.
    """

    priority = 'ABOVE_NORMAL'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        terms = {
            k: float(v.detach()) if hasattr(v, 'detach') else float(v)
            for k, v in (outputs or {}).items() if k.startswith('loss')
        }
        if all(math.isfinite(v) for v in terms.values()):
            return
        shown = ', '.join(f'{k}={v:.4g}' for k, v in terms.items())
        raise FloatingPointError(
            f'non-finite training loss at iteration {runner.iter + 1} '
            f'({shown}); stopped before saving a checkpoint. Lower the '
            'learning rate (optim_wrapper.optimizer.lr) or check the data; '
            'resume from the last good checkpoint with --resume.')
