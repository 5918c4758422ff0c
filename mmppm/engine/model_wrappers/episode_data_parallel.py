# Copyright (c) mmppm contributors. All rights reserved.
"""A model wrapper for distributed test runs that never syncs gradients."""
from typing import Union

from mmpose.registry import MODEL_WRAPPERS
from torch import nn


@MODEL_WRAPPERS.register_module()
class TestTimeDataParallel(nn.Module):
    """Each process holds a full replica and tests its own share of episodes.

    PPM optimises prompts inside ``test_step`` (per episode, under
    ``torch.enable_grad()``), and processes test different episodes with
    different numbers of steps, so gradients must NOT be all-reduced.
    ``MMDistributedDataParallel`` happens not to sync there (its
    ``test_step`` bypasses DDP's forward), but it broadcasts the whole model
    at start and refuses models without trainable parameters;
    ``MMSeparateDistributedDataParallel`` would wrap submodules in DDP and
    sync their gradients across processes -- wrong for episodes. This wrapper
    only delegates ``val_step``/``test_step``; the sampler does the sharding.

    ``tools/test.py`` uses it when a distributed test config has no
    ``model_wrapper_cfg``.

    Args:
        module (nn.Module): The model (already on its device).
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def train_step(self, *args, **kwargs):
        raise RuntimeError('TestTimeDataParallel is for val/test runs only; '
                           'train with MMDistributedDataParallel.')

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        """Delegate to the model's ``val_step``."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Delegate to the model's ``test_step``."""
        return self.module.test_step(data)
